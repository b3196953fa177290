# Benchmarks print figures and never fail on time. bench/<area>_bench.cpp: Google Benchmark;
# bench/throughput.cpp, scale.cpp, raw_writer.cpp: the end-to-end tools that the bench/run_*.sh
# scripts drive.
find_package(benchmark REQUIRED)
file(GLOB MISSIVE_BENCHES CONFIGURE_DEPENDS bench/*_bench.cpp)
foreach(src IN LISTS MISSIVE_BENCHES)
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE src)
  # OpenSSL::Crypto by name: codec_bench calls OpenSSL itself (its base64 is the baseline).
  target_link_libraries(${name} PRIVATE missive::missive OpenSSL::Crypto benchmark::benchmark_main)
endforeach()
# End-to-end tools that the bench/run_*.sh scripts drive.
foreach(name throughput starttls_connections scale)
  add_executable(${name} bench/${name}.cpp)
  target_link_libraries(${name} PRIVATE missive::missive missive::asio missive_warnings)
endforeach()
# scale's pool mode needs client::Pool, declared before it is implemented: built only once
# src/client/pool.cpp exists (the library then defines it).
if(EXISTS ${PROJECT_SOURCE_DIR}/src/client/pool.cpp)
  target_compile_definitions(scale PRIVATE MISSIVE_BENCH_HAVE_POOL)
endif()
# The ceiling of bench/run_scale.sh: plain sockets, no missive code.
add_executable(raw_writer bench/raw_writer.cpp)
target_link_libraries(raw_writer PRIVATE Threads::Threads missive_warnings)
# The outbox's enqueue rate (bench/run_outbox.sh drives it too): SQLite always, PostgreSQL when
# the build has missive::outbox_postgres (its schema clean-up calls libpq itself).
add_executable(outbox_enqueue bench/outbox_enqueue.cpp)
target_link_libraries(outbox_enqueue PRIVATE missive::outbox_sqlite missive_warnings)
if(TARGET missive_outbox_postgres)
  target_compile_definitions(outbox_enqueue PRIVATE MISSIVE_BENCH_HAVE_POSTGRES)
  target_link_libraries(outbox_enqueue PRIVATE missive::outbox_postgres PkgConfig::PQ)
endif()
