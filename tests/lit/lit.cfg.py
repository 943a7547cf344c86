# lit configuration for gradc's FileCheck tests.
import os
import lit.formats

config.name = "gradc"
config.test_format = lit.formats.ShTest(True)
config.suffixes = [".mlir", ".pbtxt", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.gradc_obj_root, "tests", "lit")
config.substitutions.append(("%examples", os.path.join(config.gradc_src_root, "examples")))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
path = os.pathsep.join([os.path.join(config.gradc_obj_root, "tools"),
                        config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
config.environment["PATH"] = path
# FileCheck-19 and not live in the LLVM tools dir.
# The model schema, for tests that encode binary .pb files with protoc.
config.substitutions.append(("%proto", os.path.join(config.gradc_src_root, "frontend")))
