include(CMakePackageConfigHelpers)

# missive::missive, and missive::asio (header-only Asio with missive's configuration).
install(TARGETS missive missive_asio EXPORT missive-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The outbox: missive::outbox (no database) with the library; missive::outbox_sqlite and
# missive::outbox_postgres in export files of their own, which the config loads only where
# pkg-config finds sqlite3 (libpq), so that find_package(missive) never requires a database.
install(TARGETS missive_outbox EXPORT missive-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS missive_outbox_sqlite EXPORT missive-outbox-sqlite-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS missive_outbox_postgres EXPORT missive-outbox-postgres-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT missive-targets NAMESPACE missive::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/missive)
install(EXPORT missive-outbox-sqlite-targets NAMESPACE missive::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/missive)
install(EXPORT missive-outbox-postgres-targets NAMESPACE missive::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/missive)

configure_package_config_file(cmake/missive-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/missive-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/missive)
# 0.x: a minor release may break the API, so only the same minor version is compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/missive-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/missive-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/missive-config-version.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/missive)

# Relocatable: the prefix is found from where the .pc file lies, so a staged or moved install works.
file(RELATIVE_PATH MISSIVE_PC_TO_PREFIX "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig"
     "${CMAKE_INSTALL_PREFIX}")
# Requires.private: a shared libmissive needs its dependencies only for `pkg-config --static`.
# A static libmissive (the default) needs them on every link line, so there they are Requires,
# and a plain `pkg-config --cflags --libs missive` links.
if(BUILD_SHARED_LIBS)
  set(MISSIVE_PC_REQUIRES "Requires.private")
else()
  set(MISSIVE_PC_REQUIRES "Requires")
endif()
configure_file(cmake/missive.pc.in ${CMAKE_CURRENT_BINARY_DIR}/missive.pc @ONLY)
# The outbox with a store: `pkg-config --cflags --libs missive-outbox-sqlite` (or -postgres).
configure_file(cmake/missive-outbox-sqlite.pc.in ${CMAKE_CURRENT_BINARY_DIR}/missive-outbox-sqlite.pc
  @ONLY)
configure_file(cmake/missive-outbox-postgres.pc.in
  ${CMAKE_CURRENT_BINARY_DIR}/missive-outbox-postgres.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/missive.pc
              ${CMAKE_CURRENT_BINARY_DIR}/missive-outbox-sqlite.pc
              ${CMAKE_CURRENT_BINARY_DIR}/missive-outbox-postgres.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
