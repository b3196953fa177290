# Everything missive needs from the system (Debian 12 packages; scripts/install-deps.sh).
find_package(OpenSSL 3 REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(IDN2 REQUIRED IMPORTED_TARGET libidn2)
# The outbox's embedded store (libsqlite3-dev); only missive::outbox_sqlite links it.
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
# The outbox's server store (libpq-dev); only missive::outbox_postgres links it.
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)

# Standalone Asio (libasio-dev, 1.22.1) ships only headers: an INTERFACE target carries its
# include directory and configuration. ASIO_HAS_CO_AWAIT=1: without it Asio 1.22 hides its
# coroutine support from clang (and clang-tidy 14). The library uses it privately (src/net,
# src/client); it is exported as missive::asio so that users' own Asio code is configured alike.
find_path(MISSIVE_ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(missive_asio INTERFACE)
add_library(missive::asio ALIAS missive_asio)
set_target_properties(missive_asio PROPERTIES EXPORT_NAME asio)
target_include_directories(missive_asio SYSTEM INTERFACE ${MISSIVE_ASIO_INCLUDE_DIR})
target_compile_definitions(missive_asio INTERFACE ASIO_NO_DEPRECATED ASIO_HAS_CO_AWAIT=1)
target_link_libraries(missive_asio INTERFACE Threads::Threads)

# The missive CLI only (cmake/tools.cmake): CLI11, toml++ and nlohmann/json (the JSON Lines of
# `send --batch`), all header-only. The library itself needs none of them.
if(MISSIVE_BUILD_TOOLS AND EXISTS ${PROJECT_SOURCE_DIR}/tools/missive/main.cpp)
  find_package(nlohmann_json 3.10 CONFIG REQUIRED)
endif()
