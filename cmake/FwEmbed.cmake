# Embeds files in a target at build time, so what the binary serves or applies can never disagree
# with the source tree. Two kinds:
#
#   fw_embed_migrations(<target> DIRECTORY <dir> HEADER <include> NAMESPACE <ns> FUNCTION <name>)
#
# generates a .cpp that defines `std::span<const Migration> <ns>::<name>()`, with every numbered
# SQL migration (schemas/NNNN_name.sql) as a raw string literal, in version order. The header must
# declare `struct Migration { int version; std::string_view name; std::string_view sql; }` and the
# function. The .cpp is regenerated when a .sql file changes; adding or removing a file re-runs
# CMake (CONFIGURE_DEPENDS).
#
#   fw_embed_files(<target> DIRECTORY <dir> [EXCLUDE <relative path>...]
#                  [EXTRA <url path> <file>...] HEADER <include> NAMESPACE <ns> FUNCTION <name>)
#
# generates a .cpp that defines `std::span<const EmbeddedFile> <ns>::<name>()`: every file under
# <dir> (but the excluded ones) served at "/" + its relative path, plus each EXTRA file at its URL
# path, sorted by URL path. The header must declare `struct EmbeddedFile { std::string_view path;
# std::string_view media_type; std::string_view bytes; std::string_view etag; }` and the function.
# The media type comes from the extension (a file with an unknown one is a configure error, so a
# new kind of file is a decision, not a surprise) and the ETag is the first 32 hex digits of the
# file's SHA-256, quoted.
#
# This file is also the generator: CMake runs it in script mode (-P) as the build step.

set(FW_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_FILE})

function(fw_embed_migrations target)
    cmake_parse_arguments(ARG "" "DIRECTORY;HEADER;NAMESPACE;FUNCTION" "" ${ARGN})
    foreach(required DIRECTORY HEADER NAMESPACE FUNCTION)
        if(NOT ARG_${required})
            message(FATAL_ERROR "fw_embed_migrations(${target}): ${required} is required")
        endif()
    endforeach()
    file(GLOB sql_files CONFIGURE_DEPENDS ${ARG_DIRECTORY}/*.sql)
    set(output ${CMAKE_CURRENT_BINARY_DIR}/${target}_migrations.cpp)
    add_custom_command(OUTPUT ${output}
        COMMAND ${CMAKE_COMMAND} -DFW_EMBED_DIRECTORY=${ARG_DIRECTORY} -DFW_EMBED_OUTPUT=${output}
            -DFW_EMBED_HEADER=${ARG_HEADER} -DFW_EMBED_NAMESPACE=${ARG_NAMESPACE}
            -DFW_EMBED_FUNCTION=${ARG_FUNCTION} -P ${FW_EMBED_SCRIPT}
        DEPENDS ${sql_files} ${FW_EMBED_SCRIPT}
        COMMENT "Embedding SQL migrations from ${ARG_DIRECTORY}"
        VERBATIM)
    target_sources(${target} PRIVATE ${output})
endfunction()

function(fw_embed_files target)
    cmake_parse_arguments(ARG "" "DIRECTORY;HEADER;NAMESPACE;FUNCTION" "EXCLUDE;EXTRA" ${ARGN})
    foreach(required DIRECTORY HEADER NAMESPACE FUNCTION)
        if(NOT ARG_${required})
            message(FATAL_ERROR "fw_embed_files(${target}): ${required} is required")
        endif()
    endforeach()
    file(GLOB_RECURSE found LIST_DIRECTORIES false RELATIVE ${ARG_DIRECTORY} CONFIGURE_DEPENDS
        ${ARG_DIRECTORY}/*)
    list(SORT found)
    set(entries "")
    set(dependencies "")
    foreach(relative IN LISTS found)
        if(relative IN_LIST ARG_EXCLUDE)
            continue()
        endif()
        list(APPEND entries "/${relative}=${ARG_DIRECTORY}/${relative}")
        list(APPEND dependencies ${ARG_DIRECTORY}/${relative})
    endforeach()
    list(LENGTH ARG_EXTRA extra_count)
    math(EXPR odd "${extra_count} % 2")
    if(odd)
        message(FATAL_ERROR "fw_embed_files(${target}): EXTRA takes pairs of <url path> <file>")
    endif()
    while(ARG_EXTRA)
        list(POP_FRONT ARG_EXTRA url_path source_file)
        if(NOT EXISTS ${source_file})
            message(FATAL_ERROR "fw_embed_files(${target}): ${source_file} does not exist "
                "(scripts/install-deps.sh installs the package that provides it)")
        endif()
        list(APPEND entries "${url_path}=${source_file}")
        list(APPEND dependencies ${source_file})
    endwhile()
    # The list travels to the script in a file: it is long, and holds '=' and ';'.
    set(list_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_embedded_files.txt)
    string(REPLACE ";" "\n" list_text "${entries}")
    file(CONFIGURE OUTPUT ${list_file} CONTENT "${list_text}\n" @ONLY)
    set(output ${CMAKE_CURRENT_BINARY_DIR}/${target}_embedded_files.cpp)
    add_custom_command(OUTPUT ${output}
        COMMAND ${CMAKE_COMMAND} -DFW_EMBED_FILE_LIST=${list_file} -DFW_EMBED_OUTPUT=${output}
            -DFW_EMBED_HEADER=${ARG_HEADER} -DFW_EMBED_NAMESPACE=${ARG_NAMESPACE}
            -DFW_EMBED_FUNCTION=${ARG_FUNCTION} -P ${FW_EMBED_SCRIPT}
        DEPENDS ${dependencies} ${list_file} ${FW_EMBED_SCRIPT}
        COMMENT "Embedding ${ARG_DIRECTORY} and ${extra_count} extra path(s)"
        VERBATIM)
    target_sources(${target} PRIVATE ${output})
endfunction()

if(NOT CMAKE_SCRIPT_MODE_FILE OR NOT DEFINED FW_EMBED_OUTPUT)
    return()
endif()

# --- Generator (script mode) ---
if(DEFINED FW_EMBED_FILE_LIST)
    file(STRINGS ${FW_EMBED_FILE_LIST} entries)
    set(definitions "")
    set(table "")
    set(index 0)
    # Sorted by URL path so the lookup can bisect.
    list(SORT entries)
    foreach(entry IN LISTS entries)
        string(FIND "${entry}" "=" split)
        string(SUBSTRING "${entry}" 0 ${split} url_path)
        math(EXPR rest "${split} + 1")
        string(SUBSTRING "${entry}" ${rest} -1 source_file)
        get_filename_component(extension ${source_file} LAST_EXT)
        string(TOLOWER "${extension}" extension)
        if(extension STREQUAL ".html")
            set(media_type "text/html; charset=utf-8")
        elseif(extension STREQUAL ".css")
            set(media_type "text/css; charset=utf-8")
        elseif(extension STREQUAL ".js" OR extension STREQUAL ".mjs")
            set(media_type "text/javascript; charset=utf-8")
        elseif(extension STREQUAL ".json")
            set(media_type "application/json")
        elseif(extension STREQUAL ".svg")
            set(media_type "image/svg+xml")
        elseif(extension STREQUAL ".png")
            set(media_type "image/png")
        elseif(extension STREQUAL ".ico")
            set(media_type "image/x-icon")
        elseif(extension STREQUAL ".txt")
            set(media_type "text/plain; charset=utf-8")
        else()
            message(FATAL_ERROR "${source_file}: no media type for '${extension}' files; add one "
                "to cmake/FwEmbed.cmake or keep the file out of the embedded folder")
        endif()
        file(SHA256 ${source_file} digest)
        string(SUBSTRING ${digest} 0 32 etag)
        file(READ ${source_file} hex HEX)
        string(LENGTH "${hex}" hex_length)
        math(EXPR size "${hex_length} / 2")
        # Every byte as \xHH, in string literals of 32 bytes a line: any content, NULs included.
        string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
        string(REPEAT "." 128 line_of_escapes)
        string(REGEX REPLACE "(${line_of_escapes})" "\\1\"\n    \"" escaped "${escaped}")
        string(APPEND definitions "// ${url_path} from ${source_file}\n"
            "constexpr char kFile${index}[] =\n    \"${escaped}\";\n")
        string(APPEND table "    {\"${url_path}\", \"${media_type}\", {kFile${index}, ${size}}, "
            "\"\\\"${etag}\\\"\"},\n")
        math(EXPR index "${index} + 1")
    endforeach()
    file(WRITE ${FW_EMBED_OUTPUT}
"// Generated by cmake/FwEmbed.cmake: edit the embedded files instead.
#include \"${FW_EMBED_HEADER}\"

namespace ${FW_EMBED_NAMESPACE} {
namespace {
${definitions}
const EmbeddedFile kEmbeddedFiles[] = {
${table}};
}  // namespace

std::span<const EmbeddedFile> ${FW_EMBED_FUNCTION}() { return kEmbeddedFiles; }

}  // namespace ${FW_EMBED_NAMESPACE}
")
    return()
endif()

file(GLOB sql_files ${FW_EMBED_DIRECTORY}/*.sql)
list(SORT sql_files)
set(delimiter "fw_sql")
set(entries "")
set(expected_version 1)
foreach(sql_file IN LISTS sql_files)
    get_filename_component(file_name ${sql_file} NAME)
    if(NOT file_name MATCHES "^([0-9][0-9][0-9][0-9])_[a-z0-9_]+\\.sql$")
        message(FATAL_ERROR "${sql_file}: migration files are named NNNN_name.sql "
            "(four digits, lower-case name), e.g. 0002_add_alarms.sql")
    endif()
    math(EXPR version "${CMAKE_MATCH_1}")
    if(NOT version EQUAL expected_version)
        message(FATAL_ERROR "${sql_file}: expected migration number ${expected_version}; "
            "migrations are numbered 1, 2, 3, ... without gaps or duplicates")
    endif()
    file(READ ${sql_file} sql)
    string(FIND "${sql}" ")${delimiter}\"" clash)
    if(NOT clash EQUAL -1)
        message(FATAL_ERROR "${sql_file} contains ')${delimiter}\"', which ends the raw string")
    endif()
    string(APPEND entries "    {${version}, \"${file_name}\", R\"${delimiter}(${sql})${delimiter}\"},\n")
    math(EXPR expected_version "${expected_version} + 1")
endforeach()
if(entries STREQUAL "")
    message(FATAL_ERROR "no migrations (NNNN_name.sql) found in ${FW_EMBED_DIRECTORY}")
endif()

file(WRITE ${FW_EMBED_OUTPUT}
"// Generated by cmake/FwEmbed.cmake from ${FW_EMBED_DIRECTORY}: edit the .sql files instead.
#include \"${FW_EMBED_HEADER}\"

namespace ${FW_EMBED_NAMESPACE} {
namespace {
constexpr Migration kEmbeddedMigrations[] = {
${entries}};
}  // namespace

std::span<const Migration> ${FW_EMBED_FUNCTION}() { return kEmbeddedMigrations; }

}  // namespace ${FW_EMBED_NAMESPACE}
")
