# Compiler set-up shared by every taupe target: ccache, warnings, sanitizers.
find_program(TAUPE_CCACHE ccache)
if(TAUPE_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${TAUPE_CCACHE})
  message(STATUS "taupe: using ccache (${TAUPE_CCACHE})")
endif()

# Project warning flags go on an interface target, so third-party code (torch, gtest)
# is not affected; third-party includes arrive as -isystem.
add_library(taupe_warnings INTERFACE)
target_compile_options(taupe_warnings INTERFACE -Wall -Wextra -Wno-unknown-pragmas)
if(TAUPE_WERROR)
  target_compile_options(taupe_warnings INTERFACE -Werror)
endif()

if(TAUPE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
