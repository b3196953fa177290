# libFuzzer targets: each fuzz/<name>_fuzz.cpp is one executable under ASan+UBSan. libFuzzer
# comes with clang only (Debian: libclang-rt-14-dev); with another compiler they are skipped,
# so the option can default to on. The fuzz preset also instruments the library itself
# (-fsanitize=fuzzer-no-link in CMAKE_CXX_FLAGS) for coverage feedback.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(STATUS "missive: fuzz targets need clang (use the fuzz preset); skipped")
  return()
endif()
file(GLOB MISSIVE_FUZZERS CONFIGURE_DEPENDS fuzz/*_fuzz.cpp)
foreach(src IN LISTS MISSIVE_FUZZERS)
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE src)
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE missive::missive)
endforeach()
