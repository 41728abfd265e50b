# Helpers shared by every CMakeLists.txt of the project.

# Warnings as errors on our own code only (dependencies come in as SYSTEM
# includes through their imported targets).
function(securebert_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
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
