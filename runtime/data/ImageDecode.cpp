//===- ImageDecode.cpp - PNG and JPEG files decoded to 8-bit pixels -------===//
//
// PNG through libpng and JPEG through libjpeg-turbo, both with error
// handlers that longjmp back with the library's message instead of printing
// it (and exiting, for libjpeg); every decoder's state lives in a struct
// outside the function that calls setjmp, so that nothing a longjmp skips
// needs destroying. Pixel memory is bounded before it is allocated (the
// side limit, and for PNG deflate's ratio against the file's size) and
// grows row by row as rows decode, so a short file that claims a huge image
// fails before touching that memory.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/ImageDecode.h"

#include "support/Files.h"

#include "absl/strings/str_cat.h"

#include <png.h>
// jpeglib.h needs size_t and FILE declared first.
#include <cstdio>
#include <jerror.h>
#include <jpeglib.h>

#include <csetjmp>
#include <cstring>
#include <memory>

namespace gradc {
namespace {

const uint8_t kPngMagic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
const uint8_t kJpegMagic[3] = {0xFF, 0xD8, 0xFF};

// Deflate expands its input at most 1032 times (a 258-byte match coded in
// two bits, and then some).
constexpr uint64_t kMaxDeflateRatio = 1032;
// libpng keeps ancillary chunks (text, colour profiles) up to this size.
constexpr size_t kMaxPngChunkBytes = size_t(8) << 20;
// libjpeg's own memory (progressive JPEGs keep every coefficient of the
// image, 2 bytes per sample).
constexpr long kMaxJpegMemory = long(1) << 30;
// A progressive JPEG has about ten scans; thousands of tiny scans would
// each revisit the whole image.
constexpr int kMaxJpegScans = 500;

absl::Status tooLarge(const std::string &path, const char *format,
                      int64_t height, int64_t width) {
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": error: ", format, " image of ", imageSizeString(height, width),
      " pixels is larger than the limit of ", kMaxImageSide, "x",
      kMaxImageSide));
}

//===----------------------------------------------------------------------===//
// PNG
//===----------------------------------------------------------------------===//

struct PngDecoder {
  std::string_view bytes;
  size_t position = 0;
  png_structp png = nullptr;
  png_infop info = nullptr;
  /// libpng's error message, or a refusal of ours.
  std::string libpngError;
  absl::Status refusal;
  const std::string *path = nullptr;
  DecodedImage image;
  size_t rowBytes = 0;
  int passes = 1;
  int pass = 0;
  uint32_t row = 0;

  ~PngDecoder() {
    if (png)
      png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

void pngError(png_structp png, png_const_charp message) {
  auto *decoder = static_cast<PngDecoder *>(png_get_error_ptr(png));
  decoder->libpngError = message ? message : "unknown error";
  png_longjmp(png, 1);
}

void pngWarning(png_structp, png_const_charp) {}

void pngRead(png_structp png, png_bytep out, size_t size) {
  auto *decoder = static_cast<PngDecoder *>(png_get_io_ptr(png));
  if (size > decoder->bytes.size() - decoder->position)
    png_error(png, "file truncated");
  std::memcpy(out, decoder->bytes.data() + decoder->position, size);
  decoder->position += size;
}

/// The part that libpng may longjmp out of: no local variables, every
/// piece of state in `d`. Returns false on an error (d.libpngError) or a
/// refusal (d.refusal).
bool runPng(PngDecoder &d) {
  if (setjmp(png_jmpbuf(d.png)))
    return false;
  png_read_info(d.png, d.info);
  d.image.height = png_get_image_height(d.png, d.info);
  d.image.width = png_get_image_width(d.png, d.info);
  if (d.image.height > kMaxImageSide || d.image.width > kMaxImageSide) {
    d.refusal = tooLarge(*d.path, "PNG", d.image.height, d.image.width);
    return false;
  }
  // The image data (at least its samples' bits), deflated in the file,
  // shrank at most kMaxDeflateRatio times: a file too short to hold it is
  // refused before the pixels are allocated.
  if (uint64_t(d.image.height) * uint64_t(d.image.width) *
          png_get_bit_depth(d.png, d.info) * png_get_channels(d.png, d.info) /
          8 >
      (uint64_t(d.bytes.size()) + 64) * kMaxDeflateRatio) {
    d.refusal = absl::InvalidArgumentError(
        absl::StrCat(*d.path, ": error: truncated or corrupt PNG: a ",
                     imageSizeString(d.image.height, d.image.width),
                     " image cannot be stored in ", d.bytes.size(), " bytes"));
    return false;
  }

  png_byte colorType = png_get_color_type(d.png, d.info);
  if (png_get_bit_depth(d.png, d.info) == 16)
    png_set_strip_16(d.png);
  if (colorType == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb(d.png);
  if (colorType == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(d.png, d.info) < 8)
    png_set_expand_gray_1_2_4_to_8(d.png);
  if (png_get_valid(d.png, d.info, PNG_INFO_tRNS))
    png_set_tRNS_to_alpha(d.png);
  d.passes = png_set_interlace_handling(d.png);
  png_read_update_info(d.png, d.info);
  d.image.channels = png_get_channels(d.png, d.info);
  d.rowBytes = png_get_rowbytes(d.png, d.info);
  if (png_get_bit_depth(d.png, d.info) != 8 || d.image.channels < 1 ||
      d.image.channels > 4 ||
      d.rowBytes != size_t(d.image.width * d.image.channels)) {
    d.refusal = absl::InvalidArgumentError(
        absl::StrCat(*d.path, ": error: unsupported PNG pixel format (",
                     png_get_bit_depth(d.png, d.info), "-bit samples, ",
                     d.image.channels, " channels)"));
    return false;
  }

  // Grow the pixels row by row: a truncated file fails before the memory
  // of the rows it lacks is touched. An interlaced image's passes each visit
  // every row, so it needs all rows from the start.
  d.image.pixels.reserve(size_t(d.image.height) * d.rowBytes);
  if (d.passes > 1)
    d.image.pixels.resize(size_t(d.image.height) * d.rowBytes);
  for (d.pass = 0; d.pass < d.passes; ++d.pass) {
    for (d.row = 0; d.row < uint32_t(d.image.height); ++d.row) {
      if (d.passes == 1)
        d.image.pixels.resize(size_t(d.row + 1) * d.rowBytes);
      png_read_row(d.png, d.image.pixels.data() + size_t(d.row) * d.rowBytes,
                   nullptr);
    }
  }
  // What follows the image data (IEND, text) is not read: an image whose
  // rows all decoded is complete.
  return true;
}

absl::StatusOr<DecodedImage> decodePng(std::string_view bytes,
                                       const std::string &path) {
  PngDecoder d;
  d.bytes = bytes;
  d.path = &path;
  d.png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, &d, pngError, pngWarning);
  if (d.png)
    d.info = png_create_info_struct(d.png);
  if (!d.png || !d.info)
    return absl::ResourceExhaustedError(
        absl::StrCat(path, ": error: cannot create a PNG decoder"));
  png_set_read_fn(d.png, &d, pngRead);
  png_set_chunk_malloc_max(d.png, kMaxPngChunkBytes);
  // The side limit is checked after the header, with a clearer message
  // than libpng's own limit (a million pixels) would give.
  png_set_user_limits(d.png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  if (!runPng(d)) {
    if (!d.refusal.ok())
      return d.refusal;
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": error: cannot decode PNG: ", d.libpngError));
  }
  return std::move(d.image);
}

//===----------------------------------------------------------------------===//
// JPEG
//===----------------------------------------------------------------------===//

struct JpegDecoder {
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr errors;
  jpeg_progress_mgr progress;
  jmp_buf jump;
  bool created = false;
  char libjpegError[JMSG_LENGTH_MAX] = {};
  absl::Status refusal;
  const std::string *path = nullptr;
  std::string_view bytes;
  DecodedImage image;
  size_t rowBytes = 0;
  JSAMPROW rowPointer = nullptr;

  ~JpegDecoder() {
    if (created)
      jpeg_destroy_decompress(&cinfo);
  }
};

JpegDecoder *jpegDecoder(j_common_ptr cinfo) {
  return static_cast<JpegDecoder *>(cinfo->client_data);
}

[[noreturn]] void jpegErrorExit(j_common_ptr cinfo) {
  JpegDecoder *d = jpegDecoder(cinfo);
  (*cinfo->err->format_message)(cinfo, d->libjpegError);
  std::longjmp(d->jump, 1);
}

void jpegEmitMessage(j_common_ptr cinfo, int level) {
  // Warnings (level -1) about corrupt data are tolerated, as by libjpeg's
  // tools and TensorFlow, except the end of the file before the end of the
  // image, which libjpeg would fill with grey. Trace messages are dropped.
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
    JpegDecoder *d = jpegDecoder(cinfo);
    std::snprintf(d->libjpegError, sizeof d->libjpegError, "file truncated");
    std::longjmp(d->jump, 1);
  }
}

void jpegOutputMessage(j_common_ptr) {}

void jpegProgress(j_common_ptr cinfo) {
  auto *decompress = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (decompress->input_scan_number > kMaxJpegScans) {
    JpegDecoder *d = jpegDecoder(cinfo);
    std::snprintf(d->libjpegError, sizeof d->libjpegError, "more than %d scans",
                  kMaxJpegScans);
    std::longjmp(d->jump, 1);
  }
}

/// The part that libjpeg may longjmp out of: no local variables, every
/// piece of state in `d`.
bool runJpeg(JpegDecoder &d) {
  if (setjmp(d.jump))
    return false;
  jpeg_create_decompress(&d.cinfo);
  d.created = true;
  d.cinfo.mem->max_memory_to_use = kMaxJpegMemory;
  d.cinfo.progress = &d.progress;
  jpeg_mem_src(&d.cinfo,
               reinterpret_cast<const unsigned char *>(d.bytes.data()),
               static_cast<unsigned long>(d.bytes.size()));
  jpeg_read_header(&d.cinfo, TRUE);
  d.image.height = d.cinfo.image_height;
  d.image.width = d.cinfo.image_width;
  if (d.image.height > kMaxImageSide || d.image.width > kMaxImageSide) {
    d.refusal = tooLarge(*d.path, "JPEG", d.image.height, d.image.width);
    return false;
  }
  switch (d.cinfo.jpeg_color_space) {
  case JCS_GRAYSCALE:
    d.cinfo.out_color_space = JCS_GRAYSCALE;
    d.image.channels = 1;
    break;
  case JCS_YCbCr:
  case JCS_RGB:
    d.cinfo.out_color_space = JCS_RGB;
    d.image.channels = 3;
    break;
  case JCS_CMYK:
  case JCS_YCCK:
    d.refusal = absl::InvalidArgumentError(absl::StrCat(
        *d.path, ": error: CMYK JPEG images are not supported (convert the "
                 "image to RGB)"));
    return false;
  default:
    d.refusal = absl::InvalidArgumentError(
        absl::StrCat(*d.path, ": error: unsupported JPEG colour space with ",
                     d.cinfo.num_components, " components"));
    return false;
  }
  d.cinfo.dct_method = JDCT_IFAST;
  d.cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&d.cinfo);
  d.rowBytes = size_t(d.image.width) * size_t(d.image.channels);
  if (d.cinfo.output_components != d.image.channels ||
      d.cinfo.output_width != JDIMENSION(d.image.width) ||
      d.cinfo.output_height != JDIMENSION(d.image.height)) {
    d.refusal = absl::InternalError(
        absl::StrCat(*d.path, ": error: unexpected JPEG output format"));
    return false;
  }
  d.image.pixels.reserve(size_t(d.image.height) * d.rowBytes);
  while (d.cinfo.output_scanline < d.cinfo.output_height) {
    d.image.pixels.resize(size_t(d.cinfo.output_scanline + 1) * d.rowBytes);
    d.rowPointer =
        d.image.pixels.data() + size_t(d.cinfo.output_scanline) * d.rowBytes;
    if (jpeg_read_scanlines(&d.cinfo, &d.rowPointer, 1) != 1) {
      std::snprintf(d.libjpegError, sizeof d.libjpegError, "decoder suspended");
      return false;
    }
  }
  // Whatever follows the last scanline (EOI, trailing bytes) is not read.
  return true;
}

absl::StatusOr<DecodedImage> decodeJpeg(std::string_view bytes,
                                        const std::string &path) {
  auto d = std::make_unique<JpegDecoder>();
  d->bytes = bytes;
  d->path = &path;
  d->cinfo.err = jpeg_std_error(&d->errors);
  // jpeg_create_decompress keeps `err` and `client_data`.
  d->cinfo.client_data = d.get();
  d->errors.error_exit = jpegErrorExit;
  d->errors.emit_message = jpegEmitMessage;
  d->errors.output_message = jpegOutputMessage;
  d->progress.progress_monitor = jpegProgress;
  if (!runJpeg(*d)) {
    if (!d->refusal.ok())
      return d->refusal;
    if (d->errors.msg_code == JERR_NO_BACKING_STORE)
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": error: JPEG image of ",
                       imageSizeString(d->image.height, d->image.width),
                       " needs more than 1 GiB of decoder memory; refused"));
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": error: cannot decode JPEG: ", d->libjpegError));
  }
  return std::move(d->image);
}

} // namespace

std::string imageSizeString(int64_t height, int64_t width) {
  return absl::StrCat(height, "x", width);
}

const char *channelsName(int64_t channels) {
  switch (channels) {
  case 1:
    return "grey";
  case 2:
    return "grey and alpha";
  case 3:
    return "RGB";
  case 4:
    return "RGBA";
  default:
    return "unknown";
  }
}

absl::StatusOr<DecodedImage> decodeImageBytes(std::string_view bytes,
                                              const std::string &path) {
  if (bytes.size() >= sizeof kPngMagic &&
      std::memcmp(bytes.data(), kPngMagic, sizeof kPngMagic) == 0)
    return decodePng(bytes, path);
  if (bytes.size() >= sizeof kJpegMagic &&
      std::memcmp(bytes.data(), kJpegMagic, sizeof kJpegMagic) == 0)
    return decodeJpeg(bytes, path);
  const char *other = nullptr;
  if (bytes.substr(0, 4) == "GIF8")
    other = "a GIF image";
  else if (bytes.substr(0, 2) == "BM")
    other = "a BMP image";
  else if (bytes.size() >= 12 && bytes.substr(0, 4) == "RIFF" &&
           bytes.substr(8, 4) == "WEBP")
    other = "a WebP image";
  else if (bytes.empty())
    other = "an empty file";
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": error: not a PNG or JPEG image",
                   other ? absl::StrCat(" (", other, ")") : std::string()));
}

absl::StatusOr<DecodedImage> decodeImage(const std::string &path) {
  absl::StatusOr<std::string> bytes =
      readRegularFile(path, "image", kMaxImageFileBytes);
  if (!bytes.ok())
    return bytes.status();
  return decodeImageBytes(*bytes, path);
}

} // namespace gradc
