# Benchmarks print figures and never fail on time. bench/<area>_bench.cpp: Google Benchmark;
# bench/throughput.cpp: the end-to-end tool that bench/run_throughput.sh drives.
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
foreach(name throughput starttls_connections)
  add_executable(${name} bench/${name}.cpp)
  target_link_libraries(${name} PRIVATE missive::missive missive::asio missive_warnings)
endforeach()
