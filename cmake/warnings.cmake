# Warnings for our own code only, never for users of the installed package.
add_library(missive_warnings INTERFACE)
target_compile_options(missive_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast
  -Wnon-virtual-dtor -Woverloaded-virtual -Wimplicit-fallthrough
  $<$<BOOL:${MISSIVE_WERROR}>:-Werror>)
