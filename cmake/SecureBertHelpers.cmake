# Helpers shared by every CMakeLists.txt of the project.

# Warnings as errors on our own code only (dependencies come in as SYSTEM
# includes through their imported targets). Under clang also the lock
# annotations (ABSL_GUARDED_BY, ...): GCC ignores them, so a clang build
# (the asan and fuzz presets, in CI) is what keeps them true.
function(securebert_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE -Wthread-safety)
  endif()
endfunction()

# Finds the Python interpreter that has torch. Debian's /usr/bin/python3 comes
# first: a bare `python3` on PATH may be a pyenv interpreter without it.
# Sets SECUREBERT_PYTHON (cache) to the interpreter's path.
function(securebert_find_python)
  if(SECUREBERT_PYTHON)
    return()
  endif()
  set(candidates /usr/bin/python3)
  find_program(path_python python3)
  if(path_python)
    list(APPEND candidates ${path_python})
  endif()
  foreach(py IN LISTS candidates)
    execute_process(COMMAND ${py} -c "import torch"
                    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    if(rc EQUAL 0)
      set(SECUREBERT_PYTHON ${py} CACHE FILEPATH "Python interpreter with torch")
      message(STATUS "Python with torch: ${py}")
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "No Python interpreter with torch found (tried ${candidates}); "
                      "install python3-torch (scripts/setup.sh does)")
endfunction()

# securebert_add_gtest(NAME name SOURCES a.cc ... LIBS lib ... [TINY_MODEL]
#                      [WHOLE_BINARY] [LABELS l ...])
# Builds a GoogleTest binary and registers its tests with ctest, one ctest
# test per gtest test; WHOLE_BINARY registers the binary as one ctest test
# instead (end-to-end suites that share one server process). TINY_MODEL makes
# the tests depend on the exported tiny random-weight model and passes its
# directory in SECUREBERT_TEST_MODEL_DIR.
function(securebert_add_gtest)
  cmake_parse_arguments(T "TINY_MODEL;WHOLE_BINARY" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  # Shared test helpers live in tests/testing/ ("tests/testing/...").
  target_include_directories(${T_NAME} PRIVATE ${CMAKE_SOURCE_DIR})
  target_compile_definitions(${T_NAME} PRIVATE
    SECUREBERT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    SECUREBERT_BINARY_DIR="${CMAKE_BINARY_DIR}")
  securebert_warnings(${T_NAME})
  set(props ENVIRONMENT "SECUREBERT_TEST_MODEL_DIR=${SECUREBERT_TINY_MODEL_DIR}")
  if(T_TINY_MODEL)
    list(APPEND props FIXTURES_REQUIRED tiny_model)
  endif()
  if(T_LABELS)
    list(APPEND props LABELS "${T_LABELS}")
  endif()
  if(T_WHOLE_BINARY)
    add_test(NAME ${T_NAME} COMMAND ${T_NAME})
    set_tests_properties(${T_NAME} PROPERTIES ${props} TIMEOUT 900)
  else()
    gtest_discover_tests(${T_NAME} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                         PROPERTIES ${props})
  endif()
endfunction()

# securebert_grpc_proto(TARGET lib PROTO file.proto PROTO_PATH dir
#                       [PYTHON_TARGET target])
# Generates C++ message and gRPC code for PROTO (imported as its path
# relative to PROTO_PATH) into ${CMAKE_CURRENT_BINARY_DIR}/gen and builds the
# static library TARGET from it. PYTHON_TARGET also generates the Python
# package into ${CMAKE_BINARY_DIR}/python (with Debian's grpc_python_plugin),
# built by default under that target name.
function(securebert_grpc_proto)
  cmake_parse_arguments(P "" "TARGET;PROTO;PROTO_PATH;PYTHON_TARGET" "" ${ARGN})
  find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
  file(RELATIVE_PATH rel ${P_PROTO_PATH} ${P_PROTO})
  string(REGEX REPLACE "\\.proto$" "" base ${rel})
  set(cc_out ${CMAKE_CURRENT_BINARY_DIR}/gen)
  set(gen_cc ${cc_out}/${base}.pb.cc ${cc_out}/${base}.pb.h
             ${cc_out}/${base}.grpc.pb.cc ${cc_out}/${base}.grpc.pb.h)
  add_custom_command(
    OUTPUT ${gen_cc}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${cc_out}
    COMMAND protobuf::protoc --proto_path=${P_PROTO_PATH} --cpp_out=${cc_out}
            --grpc_out=${cc_out} --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN} ${P_PROTO}
    DEPENDS ${P_PROTO}
    COMMENT "protoc: C++ code for ${rel}")
  add_library(${P_TARGET} STATIC ${gen_cc})
  target_include_directories(${P_TARGET} PUBLIC ${cc_out})
  target_link_libraries(${P_TARGET} PUBLIC protobuf::libprotobuf gRPC::grpc++)
  if(NOT P_PYTHON_TARGET)
    return()
  endif()
  find_program(GRPC_PYTHON_PLUGIN grpc_python_plugin REQUIRED)
  set(py_out ${CMAKE_BINARY_DIR}/python)
  set(gen_py ${py_out}/${base}_pb2.py ${py_out}/${base}_pb2_grpc.py)
  # Every package directory on the way needs an __init__.py.
  get_filename_component(package ${base} DIRECTORY)
  set(inits)
  while(package)
    list(APPEND inits ${py_out}/${package}/__init__.py)
    get_filename_component(package ${package} DIRECTORY)
  endwhile()
  add_custom_command(
    OUTPUT ${gen_py}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${py_out}
    COMMAND protobuf::protoc --proto_path=${P_PROTO_PATH} --python_out=${py_out}
            --grpc_python_out=${py_out} --plugin=protoc-gen-grpc_python=${GRPC_PYTHON_PLUGIN}
            ${P_PROTO}
    COMMAND ${CMAKE_COMMAND} -E touch ${inits}
    DEPENDS ${P_PROTO}
    COMMENT "protoc: Python package for ${rel}")
  add_custom_target(${P_PYTHON_TARGET} ALL DEPENDS ${gen_py})
endfunction()

# securebert_link_jemalloc(target)
# Makes jemalloc serve malloc in executable `target` when SECUREBERT_JEMALLOC
# is on: linked even though no symbol of its own is referenced (malloc and
# free resolve to it, ahead of glibc's).
function(securebert_link_jemalloc target)
  if(SECUREBERT_JEMALLOC)
    # A link option precedes the objects and libraries, so jemalloc comes
    # first among the executable's needed libraries.
    list(JOIN JEMALLOC_LINK_LIBRARIES "," libs)
    target_link_options(${target} PRIVATE "LINKER:--push-state,--no-as-needed,${libs},--pop-state")
  endif()
endfunction()
