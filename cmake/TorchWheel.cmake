# securebert_import_torch_wheel(PYTHON python)
# Imports the LibTorch inside PyPI's `torch` wheel of interpreter PYTHON as
# the INTERFACE targets securebert::torch (CPU) and securebert::torch_cuda
# (the CUDA backend besides), and sets TORCH_LIBRARIES (parent scope) to the
# first, plus SECUREBERT_TORCH_VERSION.
#
# Not through the wheel's TorchConfig.cmake: the wheel is a CUDA build, and
# its Caffe2Config insists on a CUDA toolkit (nvcc) to build against, though
# nothing here compiles CUDA code. The headers, the cxx11 ABI the wheel was
# built with and its libraries are read from torch itself.
#
# securebert::torch links libtorch_cpu and libc10 only: the CUDA libraries
# the wheel ships stay unloaded, except the two libtorch_cpu itself needs
# (libcudart, libcupti), which its RPATH finds in the wheel's nvidia
# packages. securebert::torch_cuda also links libtorch_cuda and libc10_cuda
# (loading them is what registers the CUDA backend), so that the server's
# CUDA path links against the real backend (no GPU is needed to build); the
# nvidia libraries they need resolve through -rpath-link.
function(securebert_import_torch_wheel)
  cmake_parse_arguments(W "" "PYTHON" "" ${ARGN})
  execute_process(
    COMMAND ${W_PYTHON} -c [=[
import os, torch
print(os.path.dirname(torch.__file__))
print(torch.__version__)
print(int(torch._C._GLIBCXX_USE_CXX11_ABI))
]=]
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "SECUREBERT_TORCH=wheel: ${W_PYTHON} cannot import torch: ${err}\n"
                        "Create the project's venv first: scripts/python-env.sh")
  endif()
  string(REPLACE "\n" ";" out "${out}")
  list(GET out 0 root)
  list(GET out 1 version)
  list(GET out 2 abi)
  set(libs ${root}/lib/libtorch_cpu.so ${root}/lib/libc10.so)
  set(cuda_libs ${root}/lib/libtorch_cuda.so ${root}/lib/libc10_cuda.so)
  foreach(lib IN LISTS libs cuda_libs)
    if(NOT EXISTS ${lib})
      message(FATAL_ERROR "SECUREBERT_TORCH=wheel: ${lib} is missing from torch ${version}")
    endif()
  endforeach()
  add_library(securebert_torch_wheel INTERFACE IMPORTED GLOBAL)
  add_library(securebert::torch ALIAS securebert_torch_wheel)
  target_include_directories(securebert_torch_wheel SYSTEM INTERFACE
    ${root}/include ${root}/include/torch/csrc/api/include)
  target_compile_definitions(securebert_torch_wheel INTERFACE _GLIBCXX_USE_CXX11_ABI=${abi})
  # LibTorch 2.x headers need C++20; only what includes them (model/'s
  # torch_model.cc) is compiled so, the rest stays C++17.
  target_compile_features(securebert_torch_wheel INTERFACE cxx_std_20)
  target_link_libraries(securebert_torch_wheel INTERFACE ${libs} "-Wl,-rpath,${root}/lib")
  # --no-as-needed keeps libtorch_cuda linked although no symbol of it is
  # referenced.
  add_library(securebert_torch_wheel_cuda INTERFACE IMPORTED GLOBAL)
  add_library(securebert::torch_cuda ALIAS securebert_torch_wheel_cuda)
  target_link_libraries(securebert_torch_wheel_cuda INTERFACE
    "-Wl,--push-state,--no-as-needed" ${cuda_libs} "-Wl,--pop-state"
    "-Wl,-rpath-link,${root}/../nvidia/cu13/lib:${root}/../nvidia/cudnn/lib:${root}/../nvidia/nccl/lib:${root}/../nvidia/nvshmem/lib:${root}/../nvidia/cusparselt/lib")
  set(TORCH_LIBRARIES securebert::torch PARENT_SCOPE)
  set(SECUREBERT_TORCH_VERSION ${version} PARENT_SCOPE)
  message(STATUS "LibTorch ${version} from the torch wheel of ${W_PYTHON}")
endfunction()
