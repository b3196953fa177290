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
  target_link_libraries(missive_cli_objects PUBLIC missive::missive missive::outbox_sqlite
    missive::outbox_postgres missive_asio CLI11::CLI11
    tomlplusplus::tomlplusplus nlohmann_json::nlohmann_json PRIVATE missive_warnings)
  # The target cannot be called `missive` (that is the library); the file is.
  add_executable(missive_cli tools/missive/main.cpp)
  set_target_properties(missive_cli PROPERTIES OUTPUT_NAME missive)
  target_link_libraries(missive_cli PRIVATE missive_cli_objects missive_warnings)
  target_compile_definitions(missive_cli PRIVATE MISSIVE_VERSION="${PROJECT_VERSION}")
  install(TARGETS missive_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES docs/missive.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  # Shell completion, made by the binary from its own options (`missive completion bash|zsh`).
  set(MISSIVE_COMPLETION_DIR ${CMAKE_BINARY_DIR}/completion)
  add_custom_command(
    OUTPUT ${MISSIVE_COMPLETION_DIR}/missive ${MISSIVE_COMPLETION_DIR}/_missive
    COMMAND ${CMAKE_COMMAND} -E make_directory ${MISSIVE_COMPLETION_DIR}
    COMMAND $<TARGET_FILE:missive_cli> completion bash > ${MISSIVE_COMPLETION_DIR}/missive
    COMMAND $<TARGET_FILE:missive_cli> completion zsh > ${MISSIVE_COMPLETION_DIR}/_missive
    DEPENDS missive_cli VERBATIM)
  add_custom_target(missive_completion ALL
    DEPENDS ${MISSIVE_COMPLETION_DIR}/missive ${MISSIVE_COMPLETION_DIR}/_missive)
  install(FILES ${MISSIVE_COMPLETION_DIR}/missive
    DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
  install(FILES ${MISSIVE_COMPLETION_DIR}/_missive
    DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)
else()
  message(STATUS "missive: no tools/missive/main.cpp yet, the CLI is not built")
endif()
