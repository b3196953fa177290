# The durable outbox (include/missive/outbox, src/outbox): the layer above client. The core
# (missive::outbox) links no database; each store is a target of its own.
add_library(missive_outbox
  src/outbox/store.cpp src/outbox/outbox.cpp src/outbox/deliverer.cpp
  src/outbox/outbox_transport.cpp src/outbox/store_rows.cpp)
add_library(missive::outbox ALIAS missive_outbox)
set_target_properties(missive_outbox PROPERTIES EXPORT_NAME outbox)
target_sources(missive_outbox PUBLIC FILE_SET HEADERS BASE_DIRS include FILES
  include/missive/outbox/store.hpp include/missive/outbox/outbox.hpp
  include/missive/outbox/deliverer.hpp include/missive/outbox/outbox_transport.hpp)
target_link_libraries(missive_outbox PUBLIC missive PRIVATE $<BUILD_INTERFACE:missive_warnings>)

# SQLite (libsqlite3-dev): one file, WAL, synchronous=FULL.
add_library(missive_outbox_sqlite src/outbox/sqlite_store.cpp)
add_library(missive::outbox_sqlite ALIAS missive_outbox_sqlite)
set_target_properties(missive_outbox_sqlite PROPERTIES EXPORT_NAME outbox_sqlite)
target_sources(missive_outbox_sqlite PUBLIC FILE_SET HEADERS BASE_DIRS include FILES
  include/missive/outbox/sqlite_store.hpp)
target_link_libraries(missive_outbox_sqlite PUBLIC missive_outbox
  PRIVATE PkgConfig::SQLITE3 $<BUILD_INTERFACE:missive_warnings>)

# PostgreSQL (libpq-dev): a server database shared by workers on many machines.
add_library(missive_outbox_postgres src/outbox/postgres_store.cpp)
add_library(missive::outbox_postgres ALIAS missive_outbox_postgres)
set_target_properties(missive_outbox_postgres PROPERTIES EXPORT_NAME outbox_postgres)
target_sources(missive_outbox_postgres PUBLIC FILE_SET HEADERS BASE_DIRS include FILES
  include/missive/outbox/postgres_store.hpp)
target_link_libraries(missive_outbox_postgres PUBLIC missive_outbox
  PRIVATE PkgConfig::PQ $<BUILD_INTERFACE:missive_warnings>)
