find_package(GTest REQUIRED)
include(GoogleTest)

# Unit tests: the sans-I/O core fed bytes, the clients against testing::Server.
file(GLOB_RECURSE MISSIVE_UNIT_TESTS CONFIGURE_DEPENDS tests/unit/*_test.cpp tests/support/*.cpp)
list(FILTER MISSIVE_UNIT_TESTS EXCLUDE REGEX "/tests/unit/outbox/")
add_executable(missive_unit_tests ${MISSIVE_UNIT_TESTS})
target_include_directories(missive_unit_tests PRIVATE tests src)
target_link_libraries(missive_unit_tests PRIVATE missive missive_asio missive_warnings
  GTest::gmock_main)
gtest_discover_tests(missive_unit_tests PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)

# The outbox (its own binary: it links SQLite), with kill -9 of worker processes.
file(GLOB MISSIVE_OUTBOX_TESTS CONFIGURE_DEPENDS tests/unit/outbox/*_test.cpp)
add_executable(missive_outbox_tests ${MISSIVE_OUTBOX_TESTS})
target_include_directories(missive_outbox_tests PRIVATE tests)
target_link_libraries(missive_outbox_tests PRIVATE missive_outbox_sqlite missive_outbox_postgres
  missive_outbox missive missive_warnings PkgConfig::PQ GTest::gmock_main)
# The PostgreSQL variants (store contract, kill tests) run against a private cluster that a
# fixture starts (tests/integration/scripts/start-postgres.sh) on a free port; the tests reach
# it through the libpq service file the script writes. The rest runs without it.
set(MISSIVE_PG_DIR ${CMAKE_BINARY_DIR}/postgres)
set(MISSIVE_PG_TESTS "*postgres*:PostgresConnection.*")
gtest_discover_tests(missive_outbox_tests TEST_FILTER "-${MISSIVE_PG_TESTS}" DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS unit)
gtest_discover_tests(missive_outbox_tests TEST_FILTER "${MISSIVE_PG_TESTS}" DISCOVERY_TIMEOUT 60
  TEST_LIST MISSIVE_OUTBOX_PG_TESTS PROPERTIES LABELS unit FIXTURES_REQUIRED postgres)
# Their environment is set by a file ctest reads after the discovered tests' (gtest_discover_tests
# splits an ENVIRONMENT of two variables into two properties).
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/missive_outbox_pg_env.cmake
  "set_tests_properties(\${MISSIVE_OUTBOX_PG_TESTS} PROPERTIES ENVIRONMENT "
  "\"MISSIVE_TEST_POSTGRES=service=missive_test;"
  "PGSERVICEFILE=${MISSIVE_PG_DIR}/pg_service.conf\")\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES
  ${CMAKE_CURRENT_BINARY_DIR}/missive_outbox_pg_env.cmake)
add_test(NAME postgres_start COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/scripts/start-postgres.sh
  ${MISSIVE_PG_DIR})
add_test(NAME postgres_stop COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/scripts/stop-postgres.sh
  ${MISSIVE_PG_DIR})
set_tests_properties(postgres_start PROPERTIES FIXTURES_SETUP postgres LABELS unit TIMEOUT 120)
set_tests_properties(postgres_stop PROPERTIES FIXTURES_CLEANUP postgres LABELS unit TIMEOUT 60)

# Python's email package decodes what mime writes: encoded words and display names, each line
# at most 78 characters (an independent check of RFC 2047 and RFC 5322 3.4).
add_executable(missive_header_dump tests/tools/header_dump.cpp)
target_link_libraries(missive_header_dump PRIVATE missive missive_warnings)
add_test(NAME mime_header_python
  COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/check/header_words.py
          $<TARGET_FILE:missive_header_dump>)
set_tests_properties(mime_header_python PROPERTIES LABELS unit)

# Hostile and broken servers.
file(GLOB MISSIVE_ADVERSARIAL_TESTS CONFIGURE_DEPENDS tests/adversarial/*_test.cpp)
add_executable(missive_adversarial_tests ${MISSIVE_ADVERSARIAL_TESTS})
target_include_directories(missive_adversarial_tests PRIVATE tests)
target_link_libraries(missive_adversarial_tests PRIVATE missive missive_warnings GTest::gmock_main)
gtest_discover_tests(missive_adversarial_tests PROPERTIES LABELS adversarial DISCOVERY_TIMEOUT 60)

# Dependencies point down only, and the core does no I/O (STYLE.md).
add_test(NAME layering
  COMMAND python3 ${PROJECT_SOURCE_DIR}/cmake/layering.py ${PROJECT_SOURCE_DIR})
set_tests_properties(layering PROPERTIES LABELS unit)

# Python's base64, quopri and email decoders check the content transfer encoders.
add_executable(missive_codec_dump tests/tools/codec_dump.cpp)
target_link_libraries(missive_codec_dump PRIVATE missive missive_warnings)
add_test(NAME codec_roundtrip_python
  COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/check/codec_roundtrip.py
          $<TARGET_FILE:missive_codec_dump>)
set_tests_properties(codec_roundtrip_python PROPERTIES LABELS unit TIMEOUT 120)

# Integration tests against real servers that ctest fixtures start and stop.
set(MISSIVE_IT_DIR ${CMAKE_BINARY_DIR}/integration)
set(MISSIVE_IT_SCRIPTS ${PROJECT_SOURCE_DIR}/tests/integration/scripts)
file(GLOB MISSIVE_INTEGRATION_TESTS CONFIGURE_DEPENDS tests/integration/*_test.cpp)
if(NOT TARGET missive_cli)
  list(FILTER MISSIVE_INTEGRATION_TESTS EXCLUDE REGEX "cli_test\\.cpp$")
endif()
add_executable(missive_integration_tests ${MISSIVE_INTEGRATION_TESTS})
target_compile_definitions(missive_integration_tests PRIVATE
  MISSIVE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_include_directories(missive_integration_tests PRIVATE tests)
target_link_libraries(missive_integration_tests PRIVATE missive missive_asio missive_warnings
  GTest::gmock_main)
add_test(NAME integration_servers_start COMMAND ${MISSIVE_IT_SCRIPTS}/setup.sh ${MISSIVE_IT_DIR})
add_test(NAME integration_servers_stop
  COMMAND ${MISSIVE_IT_SCRIPTS}/stop-servers.sh ${MISSIVE_IT_DIR})
set_tests_properties(integration_servers_start PROPERTIES FIXTURES_SETUP servers
  LABELS integration TIMEOUT 120)
set_tests_properties(integration_servers_stop PROPERTIES FIXTURES_CLEANUP servers
  LABELS integration TIMEOUT 60)
gtest_discover_tests(missive_integration_tests DISCOVERY_TIMEOUT 60 PROPERTIES
  LABELS integration FIXTURES_REQUIRED servers
  ENVIRONMENT MISSIVE_TEST_ENV=${MISSIVE_IT_DIR}/env)
# Python's smtplib as an independent client proves the fixtures themselves.
add_test(NAME integration_smoke_smtplib
  COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/check/smtp_smoke.py ${MISSIVE_IT_DIR})
set_tests_properties(integration_smoke_smtplib PROPERTIES FIXTURES_REQUIRED servers
  LABELS integration)

# An outside project builds against the installed package (CMake and pkg-config).
add_test(NAME install
  COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
          -DGENERATOR=${CMAKE_GENERATOR} -DCXX=${CMAKE_CXX_COMPILER}
          -DLIBDIR=${CMAKE_INSTALL_LIBDIR} -P ${PROJECT_SOURCE_DIR}/tests/install/run.cmake)
set_tests_properties(install PROPERTIES LABELS install TIMEOUT 300)

# clang-tidy over the library's and the CLI's sources with .clang-tidy (warnings are errors).
find_program(MISSIVE_RUN_CLANG_TIDY NAMES run-clang-tidy run-clang-tidy-14)
if(MISSIVE_RUN_CLANG_TIDY AND CMAKE_EXPORT_COMPILE_COMMANDS)
  # The files whose coroutines drive Asio get every check but clang-analyzer-core.CallAndMessage:
  # clang 14's analyzer does not model C++20 coroutines and reports Asio's awaitable frame
  # pointer as uninitialized at every co_await (a false positive inside asio/impl/awaitable.hpp).
  set(MISSIVE_COROUTINE_FILES "(net/async_stream|net/blocking_stream|client/driver|client/async_client|client/client)[.]cpp$")
  add_test(NAME clang_tidy COMMAND ${MISSIVE_RUN_CLANG_TIDY} -quiet -j 2 -p ${CMAKE_BINARY_DIR}
                                   "^${PROJECT_SOURCE_DIR}/(src|tools)/(?!${MISSIVE_COROUTINE_FILES})")
  set_tests_properties(clang_tidy PROPERTIES LABELS lint TIMEOUT 1800)
  add_test(NAME clang_tidy_coroutines COMMAND ${MISSIVE_RUN_CLANG_TIDY} -quiet -j 2
                                   -p ${CMAKE_BINARY_DIR} -checks=-clang-analyzer-core.CallAndMessage
                                   "^${PROJECT_SOURCE_DIR}/src/${MISSIVE_COROUTINE_FILES}")
  set_tests_properties(clang_tidy_coroutines PROPERTIES LABELS lint TIMEOUT 1800)
endif()

# Formatting per .clang-format, over every C++ file of the tree (not only git's: the check must
# also work in an exported source tree, and it must fail on a new unformatted file).
find_program(MISSIVE_CLANG_FORMAT NAMES clang-format clang-format-14)
if(MISSIVE_CLANG_FORMAT)
  add_test(NAME clang_format
    COMMAND sh -c "find include src tests tools examples fuzz bench -name '*.[ch]pp' -print0 \
                   | xargs -0 -r ${MISSIVE_CLANG_FORMAT} --dry-run --Werror"
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(clang_format PROPERTIES LABELS lint)
endif()

# MIME output read back by an independent parser: Python's email package.
add_executable(missive_mime_samples tests/tools/mime_samples.cpp)
target_link_libraries(missive_mime_samples PRIVATE missive missive_warnings)
add_test(NAME mime_roundtrip_python
  COMMAND sh -c "rm -rf \"$1\" && \"$0\" \"$1\" && python3 \"$2\" \"$1\""
          $<TARGET_FILE:missive_mime_samples> ${CMAKE_BINARY_DIR}/mime_samples
          ${PROJECT_SOURCE_DIR}/tests/integration/check/mime_roundtrip.py)
set_tests_properties(mime_roundtrip_python PROPERTIES LABELS unit)

# The missive binary end to end: tests/integration/cli_test.cpp runs it, and a real mail program
# (bsd-mailx) uses it as its sendmail.
if(TARGET missive_cli)
  target_compile_definitions(missive_integration_tests PRIVATE
    MISSIVE_CLI="$<TARGET_FILE:missive_cli>")
  add_dependencies(missive_integration_tests missive_cli)
  add_test(NAME sendmail_mailx
    COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/check/sendmail_mailx.sh
            $<TARGET_FILE:missive_cli> ${MISSIVE_IT_DIR})
  set_tests_properties(sendmail_mailx PROPERTIES FIXTURES_REQUIRED servers LABELS integration)
  # missive capture with smtplib and with missive send as clients, read back with Python's email.
  add_test(NAME capture_e2e
    COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/check/capture_e2e.py
            $<TARGET_FILE:missive_cli>)
  set_tests_properties(capture_e2e PROPERTIES LABELS integration TIMEOUT 120)
  # The outbox's promise as a user would test it: `missive send --batch --queue`, then `missive
  # deliver` processes on one outbox against two sinks that answer 421 or close without a reply
  # at random (tests/integration/scripts/chaos_sink.py), some killed with SIGKILL: every message
  # delivered exactly once, or held as outcome unknown; never two workers on a job at once.
  add_test(NAME outbox_chaos_sqlite
    COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/check/outbox_chaos.py
            --missive $<TARGET_FILE:missive_cli>
            --outbox ${CMAKE_BINARY_DIR}/outbox_chaos_sqlite/outbox.db
            --workdir ${CMAKE_BINARY_DIR}/outbox_chaos_sqlite/run
            --messages 3000 --workers 4 --kills 8 --timeout 150)
  set_tests_properties(outbox_chaos_sqlite PROPERTIES LABELS integration TIMEOUT 180)
endif()

# The CLI's own pieces (tools/missive, but main.cpp): text escaping, input streams, password
# commands, time limits; and the binary's messages against testing::Server and `missive
# capture` (tests/cli/messages_test.cpp). tests/integration/cli_test.cpp runs it against real
# servers too.
if(TARGET missive_cli_objects)
  file(GLOB MISSIVE_CLI_TESTS CONFIGURE_DEPENDS tests/cli/*_test.cpp)
  add_executable(missive_cli_tests ${MISSIVE_CLI_TESTS})
  target_include_directories(missive_cli_tests PRIVATE tests)
  target_link_libraries(missive_cli_tests PRIVATE missive_cli_objects missive_warnings
    GTest::gmock_main)
  # Some run the binary itself (tests/cli/binary.hpp).
  target_compile_definitions(missive_cli_tests PRIVATE MISSIVE_CLI="$<TARGET_FILE:missive_cli>")
  add_dependencies(missive_cli_tests missive_cli)
  gtest_discover_tests(missive_cli_tests PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
endif()

# missive(1) mentions every subcommand and option the binary has (capture's too).
if(TARGET missive_cli)
  add_test(NAME man_page_options
    COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/cli/man_page_test.py
            $<TARGET_FILE:missive_cli> ${PROJECT_SOURCE_DIR}/docs/missive.1)
  set_tests_properties(man_page_options PROPERTIES LABELS unit)
endif()

# The README's C++ as a newcomer runs it: compiled and run against `missive capture`, and each
# example's command from its table.
if(TARGET missive_cli AND MISSIVE_BUILD_EXAMPLES)
  add_test(NAME readme_examples
    COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/cli/readme_test.py ${PROJECT_SOURCE_DIR}
            ${CMAKE_BINARY_DIR} $<TARGET_FILE:missive_cli> ${CMAKE_CXX_COMPILER}
            $<TARGET_FILE:missive>)
  set_tests_properties(readme_examples PROPERTIES LABELS unit TIMEOUT 300)
endif()

# The README's first command, after its build: the main job on the embedded default (queue into
# the SQLite outbox, capture on a free port, deliver, the per-recipient report).
if(TARGET missive_cli)
  add_test(NAME main_job
    COMMAND sh -c "rm -rf \"$0\" && MISSIVE_DEMO_DIR=\"$0\" \"$1\" \"$2\""
            ${CMAKE_BINARY_DIR}/main_job ${PROJECT_SOURCE_DIR}/scripts/main-job.sh
            $<TARGET_FILE:missive_cli>
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(main_job PROPERTIES LABELS unit TIMEOUT 60
    PASS_REGULAR_EXPRESSION "1 <bob@example.org> accepted: 250 2.0.0 Ok: queued as M1\n1 <carol@example.org> accepted: 250 2.0.0 Ok: queued as M1\n.*  done  ")
endif()

# Shell completion: bash takes the generated script and completes with it.
if(TARGET missive_completion)
  add_test(NAME completion_bash
    COMMAND ${PROJECT_SOURCE_DIR}/tests/cli/completion_test.sh
            ${CMAKE_BINARY_DIR}/completion/missive)
  set_tests_properties(completion_bash PROPERTIES LABELS unit)
  find_program(MISSIVE_ZSH zsh)
  if(MISSIVE_ZSH)
    add_test(NAME completion_zsh
      COMMAND ${MISSIVE_ZSH} ${PROJECT_SOURCE_DIR}/tests/cli/completion_test.zsh
              ${CMAKE_BINARY_DIR}/completion/_missive)
    set_tests_properties(completion_zsh PROPERTIES LABELS unit)
  endif()
endif()

# The man page renders without a warning.
find_program(MISSIVE_GROFF groff)
if(MISSIVE_GROFF)
  add_test(NAME man_page
    COMMAND sh -c "out=$(\"$0\" -man -Tutf8 -ww \"$1\" 2>&1 >/dev/null); echo \"$out\"; [ -z \"$out\" ]"
            ${MISSIVE_GROFF} ${PROJECT_SOURCE_DIR}/docs/missive.1)
  set_tests_properties(man_page PROPERTIES LABELS unit)
endif()

# DKIM signatures checked by two independent verifiers, offline: dkimpy (python3-dkim, keys
# through its dnsfunc hook) and opendkim's test mode (TestPublicKeys). Debian's own python3 has
# python3-dkim, whatever python3 comes first in PATH.
add_executable(missive_dkim_samples tests/tools/dkim_samples.cpp)
target_link_libraries(missive_dkim_samples PRIVATE missive missive_warnings)
add_test(NAME dkim_verify
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/integration/check/dkim_verify.py
          $<TARGET_FILE:missive_dkim_samples> ${CMAKE_BINARY_DIR}/dkim_samples)
set_tests_properties(dkim_verify PROPERTIES LABELS unit TIMEOUT 600)
# `missive dkim keygen` and `dns` end to end: the published record verifies a library signature.
if(TARGET missive_cli)
  add_test(NAME dkim_cli
    COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/integration/check/dkim_cli.py
            $<TARGET_FILE:missive_cli> $<TARGET_FILE:missive_dkim_samples>
            ${CMAKE_BINARY_DIR}/dkim_cli)
  set_tests_properties(dkim_cli PROPERTIES LABELS unit TIMEOUT 120)
  # missive send and sendmail sign what they send (flags, the account's dkim table; a built
  # message, a file, stdin): dkimpy verifies what capture stored and what Postfix delivered.
  add_test(NAME dkim_send_e2e
    COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/integration/check/dkim_send_e2e.py
            $<TARGET_FILE:missive_cli> ${CMAKE_BINARY_DIR}/dkim_send_e2e ${MISSIVE_IT_DIR}/env)
  set_tests_properties(dkim_send_e2e PROPERTIES LABELS integration FIXTURES_REQUIRED servers
    TIMEOUT 180)
endif()
