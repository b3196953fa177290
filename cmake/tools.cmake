# The `missive` command-line tool: tools/missive/*.cpp, once tools/missive/main.cpp exists.
# The glob is CONFIGURE_DEPENDS even while main.cpp is missing, so adding it re-runs CMake.
file(GLOB MISSIVE_TOOL_SOURCES CONFIGURE_DEPENDS tools/missive/*.cpp)
if(EXISTS ${PROJECT_SOURCE_DIR}/tools/missive/main.cpp)
  find_package(CLI11 2 CONFIG REQUIRED)
  find_package(tomlplusplus 3 REQUIRED)
  # Everything but main.cpp, as objects that the CLI's unit tests (tests/cli) link too.
  set(MISSIVE_TOOL_LIB_SOURCES ${MISSIVE_TOOL_SOURCES})
  list(FILTER MISSIVE_TOOL_LIB_SOURCES EXCLUDE REGEX "/main\\.cpp$")
  add_library(missive_cli_objects OBJECT ${MISSIVE_TOOL_LIB_SOURCES})
  target_include_directories(missive_cli_objects PUBLIC tools/missive)
  target_link_libraries(missive_cli_objects PUBLIC missive::missive missive_asio CLI11::CLI11
    tomlplusplus::tomlplusplus PRIVATE missive_warnings)
  # The target cannot be called `missive` (that is the library); the file is.
  add_executable(missive_cli tools/missive/main.cpp)
  set_target_properties(missive_cli PROPERTIES OUTPUT_NAME missive)
  target_link_libraries(missive_cli PRIVATE missive_cli_objects missive_warnings)
  install(TARGETS missive_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES docs/missive.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "missive: no tools/missive/main.cpp yet, the CLI is not built")
endif()
