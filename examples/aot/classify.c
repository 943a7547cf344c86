/* classify.c: classifies the images of an IDX file with a model compiled
 * ahead of time by gradc, without MLIR or LLVM:
 *
 *   gradc compile examples/fashion_mnist_cnn.pbtxt --emit=lib -o
 * libfashion_cnn.so
 *   cc -O2 -DMODEL=fashion_cnn -include fashion_cnn.h examples/aot/classify.c \
 *      -L. -lfashion_cnn -Wl,-rpath,'$ORIGIN' -o classify
 *   ./classify weights.ckpt t10k-images-idx3-ubyte
 *
 * It reads the weights from a gradc checkpoint (runtime/params/checkpoint.proto,
 * decoded here from the protobuf wire format), scales the pixels to [0, 1]
 * as gradc does, and prints one line per image in the format of
 * `gradc predict`: "INDEX: class K  [p0 p1 ...]". Exit status 1, with one
 * line on stderr, for a missing or malformed file. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define M(x) CAT(MODEL, x) /* M(predict) is e.g. fashion_cnn_predict */

static void fail(const char *path, const char *what) {
  fprintf(stderr, "%s: error: %s\n", path, what);
  exit(1);
}

static unsigned char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    fail(path, "cannot open");
  unsigned char *bytes = NULL;
  size_t n = 0, cap = 0, got;
  do {
    if (n == cap) {
      cap = cap ? 2 * cap : 1 << 20;
      bytes = realloc(bytes, cap);
      if (!bytes)
        fail(path, "out of memory");
    }
    got = fread(bytes + n, 1, cap - n, f);
    n += got;
  } while (got > 0);
  fclose(f);
  *size = n;
  return bytes;
}

/* The protobuf wire format: varints and length-delimited fields. */
static int varint(const unsigned char **p, const unsigned char *end,
                  uint64_t *v) {
  *v = 0;
  for (int shift = 0; *p < end && shift < 64; shift += 7) {
    unsigned char b = *(*p)++;
    *v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80))
      return 1;
  }
  return 0;
}

/* Copies the tensor named `name` of a checkpoint's params (field 2) or
 * buffers (field 10) into `out` (`size` floats); 0 when absent. */
static int find_tensor(const unsigned char *ck, size_t n, const char *name,
                       float *out, int64_t size, const char *path) {
  const unsigned char *p = ck, *end = ck + n;
  while (p < end) {
    uint64_t key, len;
    if (!varint(&p, end, &key))
      fail(path, "malformed checkpoint");
    int field = (int)(key >> 3), wire = (int)(key & 7);
    if (wire == 0) {
      if (!varint(&p, end, &len))
        fail(path, "malformed checkpoint");
      continue;
    }
    if (wire == 5 || wire == 1) {
      p += wire == 5 ? 4 : 8;
      continue;
    }
    if (wire != 2 || !varint(&p, end, &len) || len > (uint64_t)(end - p))
      fail(path, "malformed checkpoint");
    const unsigned char *msg = p, *msgEnd = p + len;
    p = msgEnd;
    if (field != 2 && field != 10)
      continue;
    /* NamedTensor: name = 1, shape = 2, data = 3 (packed floats). */
    const unsigned char *data = NULL;
    uint64_t dataLen = 0;
    int matches = 0;
    while (msg < msgEnd) {
      uint64_t k, l;
      if (!varint(&msg, msgEnd, &k))
        fail(path, "malformed checkpoint tensor");
      if ((k & 7) == 0) {
        if (!varint(&msg, msgEnd, &l))
          fail(path, "malformed checkpoint tensor");
        continue;
      }
      if ((k & 7) != 2 || !varint(&msg, msgEnd, &l) ||
          l > (uint64_t)(msgEnd - msg))
        fail(path, "malformed checkpoint tensor");
      if ((k >> 3) == 1)
        matches = l == strlen(name) && memcmp(msg, name, l) == 0;
      else if ((k >> 3) == 3)
        data = msg, dataLen = l;
      msg += l;
    }
    if (!matches)
      continue;
    if (dataLen != (uint64_t)size * 4)
      fail(path, "a tensor's size does not match the compiled model");
    memcpy(out, data, dataLen); /* little-endian floats, as on x86-64 */
    return 1;
  }
  return 0;
}

static uint32_t be32(const unsigned char *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
         b[3];
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s CHECKPOINT IMAGES.idx\n", argv[0]);
    return 1;
  }
  size_t ckSize, idxSize;
  unsigned char *ck = read_file(argv[1], &ckSize);
  float *weights[M(NUM_WEIGHTS)];
  for (int i = 0; i < M(NUM_WEIGHTS); ++i) {
    weights[i] = malloc(sizeof(float) * M(weight_sizes)[i]);
    if (!weights[i] || !find_tensor(ck, ckSize, M(weight_names)[i], weights[i],
                                    M(weight_sizes)[i], argv[1])) {
      fprintf(stderr, "%s: error: no weights '%s' in the checkpoint\n", argv[1],
              M(weight_names)[i]);
      return 1;
    }
  }
  unsigned char *idx = read_file(argv[2], &idxSize);
  if (idxSize < 16 || be32(idx) != 0x803)
    fail(argv[2], "not an IDX file of unsigned-byte images");
  uint64_t count = be32(idx + 4),
           per = (uint64_t)be32(idx + 8) * be32(idx + 12);
  if (per != M(INPUT_SIZE) || idxSize - 16 < count * per)
    fail(argv[2], "the images do not match the model input or the file is "
                  "truncated");
  static float x[M(BATCH) * M(INPUT_SIZE)];
  static float probs[M(BATCH) * M(CLASSES)];
  for (uint64_t start = 0; start < count; start += M(BATCH)) {
    uint64_t n = count - start < M(BATCH) ? count - start : M(BATCH);
    memset(x, 0, sizeof x); /* the padding of a partial batch */
    for (uint64_t i = 0; i < n * per; ++i)
      x[i] = idx[16 + start * per + i] / 255.0f;
    M(predict)(weights, x, probs);
    for (uint64_t i = 0; i < n; ++i) {
      const float *row = probs + i * M(CLASSES);
      int best = 0;
      for (int c = 1; c < M(CLASSES); ++c)
        if (row[c] > row[best])
          best = c;
      printf("%llu: class %d  [", (unsigned long long)(start + i), best);
      for (int c = 0; c < M(CLASSES); ++c)
        printf("%s%.4f", c ? " " : "", row[c]);
      printf("]\n");
    }
  }
  return 0;
}
