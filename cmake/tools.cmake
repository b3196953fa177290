# The `missive` command-line tool: tools/missive/*.cpp, once tools/missive/main.cpp exists.
# The glob is CONFIGURE_DEPENDS even while main.cpp is missing, so adding it re-runs CMake.
file(GLOB MISSIVE_TOOL_SOURCES CONFIGURE_DEPENDS tools/missive/*.cpp)
if(EXISTS ${PROJECT_SOURCE_DIR}/tools/missive/main.cpp)
  find_package(CLI11 2 CONFIG REQUIRED)
  find_package(tomlplusplus 3 REQUIRED)
  # The target cannot be called `missive` (that is the library); the file is.
  add_executable(missive_cli ${MISSIVE_TOOL_SOURCES})
  set_target_properties(missive_cli PROPERTIES OUTPUT_NAME missive)
  target_include_directories(missive_cli PRIVATE tools/missive)
  target_link_libraries(missive_cli PRIVATE missive::missive missive_asio CLI11::CLI11
    tomlplusplus::tomlplusplus missive_warnings)
  install(TARGETS missive_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES docs/missive.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "missive: no tools/missive/main.cpp yet, the CLI is not built")
endif()
