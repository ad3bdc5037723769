# Per-target settings, applied through small helpers instead of global flags (after spdlog).

# Warnings every floorwatch target is built with; FW_WARNINGS_AS_ERRORS turns them into errors (CI).
function(fw_target_warnings target)
    target_compile_options(${target} PRIVATE
        -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
        -Wold-style-cast -Wcast-align -Wdouble-promotion -Wformat=2
        -Wimplicit-fallthrough)
    if(FW_WARNINGS_AS_ERRORS)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()

# ASan + UBSan for a target when FW_SANITIZE is on. UBSan is made fatal so a finding fails the test.
function(fw_target_sanitizers target)
    if(FW_SANITIZE)
        target_compile_options(${target} PRIVATE
            -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
        target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    endif()
endfunction()

function(fw_target_defaults target)
    fw_target_warnings(${target})
    fw_target_sanitizers(${target})
endfunction()

# A floorwatch library: fw_library(core SOURCES ... DEPS ...) gives target fw_core, alias fw::core.
function(fw_library name)
    cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
    add_library(fw_${name} STATIC ${ARG_SOURCES})
    add_library(fw::${name} ALIAS fw_${name})
    target_include_directories(fw_${name} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(fw_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
    fw_target_defaults(fw_${name})
endfunction()

# A doctest test binary registered with CTest under the given labels (unit, integration).
# Every test binary links fw::test_main, which provides doctest's main().
function(fw_test name)
    cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
    if(NOT FW_BUILD_TESTS)
        return()
    endif()
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE fw::test_main ${ARG_DEPS})
    fw_target_defaults(${name})
    add_test(NAME ${name} COMMAND ${name})
    if(NOT ARG_TIMEOUT)
        set(ARG_TIMEOUT 120)
    endif()
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
        ENVIRONMENT "FW_BUILD_DIR=${PROJECT_BINARY_DIR};FW_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
