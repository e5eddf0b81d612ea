# Documents generated from the code, each by a `taupe` command, so that they cannot drift from
# it. `cmake --build build --target docs` rewrites them (WRITE=ON); the test `docs_current`
# fails when one differs from what the code prints.
# Usage: cmake -DTAUPE=<taupe binary> -DDOCS=<docs dir> [-DWRITE=ON] -P cmake/GeneratedDocs.cmake
# "<file>|<taupe arguments, space-separated>": the whole file; a file holding the line
# "<!-- Everything below is generated ..." keeps what is above that line and has the rest generated.
set(TAUPE_GENERATED_DOCS
    "config-keys.md|config keys"
    "cli.md|cli-reference")
set(marker "<!-- Everything below is generated")
foreach(entry IN LISTS TAUPE_GENERATED_DOCS)
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 file)
  list(GET parts 1 argstr)
  separate_arguments(args UNIX_COMMAND "${argstr}")
  execute_process(COMMAND ${TAUPE} ${args} OUTPUT_VARIABLE text RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "taupe ${args} failed (${rc}): ${err}")
  endif()
  if(EXISTS "${DOCS}/${file}")
    file(READ "${DOCS}/${file}" current)
  else()
    set(current "")
  endif()
  string(FIND "${current}" "${marker}" at)
  if(at GREATER -1)  # keep the hand-written head and the marker line
    string(SUBSTRING "${current}" ${at} -1 rest)
    string(FIND "${rest}" "\n" eol)
    math(EXPR head_len "${at} + ${eol} + 1")
    string(SUBSTRING "${current}" 0 ${head_len} head)
    set(text "${head}\n${text}")
  endif()
  if(WRITE)
    file(WRITE "${DOCS}/${file}" "${text}")
    message(STATUS "wrote docs/${file}")
  else()
    if(NOT current STREQUAL text)
      message(FATAL_ERROR "docs/${file} is not what `taupe ${args}` prints: regenerate it with "
                          "`cmake --build build --target docs`")
    endif()
  endif()
endforeach()
