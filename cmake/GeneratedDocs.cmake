# Documents generated from the code, each by a `taupe` command, so that they cannot drift from
# it. `cmake --build build --target docs` rewrites them (WRITE=ON); the test `docs_current`
# fails when one differs from what the code prints.
# Usage: cmake -DTAUPE=<taupe binary> -DDOCS=<docs dir> [-DWRITE=ON] -P cmake/GeneratedDocs.cmake
set(TAUPE_GENERATED_DOCS
    "config-keys.md|config;keys")
foreach(entry IN LISTS TAUPE_GENERATED_DOCS)
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 file)
  list(SUBLIST parts 1 -1 args)
  execute_process(COMMAND ${TAUPE} ${args} OUTPUT_VARIABLE text RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "taupe ${args} failed (${rc}): ${err}")
  endif()
  if(WRITE)
    file(WRITE "${DOCS}/${file}" "${text}")
    message(STATUS "wrote docs/${file}")
  else()
    file(READ "${DOCS}/${file}" current)
    if(NOT current STREQUAL text)
      message(FATAL_ERROR "docs/${file} is not what `taupe ${args}` prints: regenerate it with "
                          "`cmake --build build --target docs`")
    endif()
  endif()
endforeach()
