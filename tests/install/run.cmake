# ctest "install": stage `cmake --install`, then build and run tests/install against it with
# find_package, and compile the same program with the flags `pkg-config --cflags --libs missive`
# gives. Arguments: BUILD_DIR SOURCE_DIR GENERATOR CXX LIBDIR.
set(stage ${BUILD_DIR}/install-test/stage)
set(outside ${BUILD_DIR}/install-test/build)
file(REMOVE_RECURSE ${BUILD_DIR}/install-test)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${stage})
foreach(f include/missive/missive.hpp ${LIBDIR}/cmake/missive/missive-config.cmake
          ${LIBDIR}/cmake/missive/missive-config-version.cmake ${LIBDIR}/pkgconfig/missive.pc)
  if(NOT EXISTS ${stage}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()

# The command's shell completion, where bash-completion and zsh look; bash takes it.
if(EXISTS ${BUILD_DIR}/completion/missive)
  foreach(f share/bash-completion/completions/missive share/zsh/site-functions/_missive
            share/man/man1/missive.1)
    if(NOT EXISTS ${stage}/${f})
      message(FATAL_ERROR "not installed: ${f}")
    endif()
  endforeach()
  run(bash -c "source '${stage}/share/bash-completion/completions/missive' && complete -p missive")
endif()

# CMake: find_package(missive) from the staged prefix only.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install -B ${outside} -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${stage} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
run(${CMAKE_COMMAND} --build ${outside})
run(${outside}/uses_missive)
run(${outside}/uses_outbox_postgres)

# pkg-config, with the staged .pc file (relocatable: its prefix is found from its own place).
set(ENV{PKG_CONFIG_PATH} ${stage}/${LIBDIR}/pkgconfig)
execute_process(COMMAND pkg-config --cflags --libs missive
  OUTPUT_VARIABLE flags RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config does not know missive (PKG_CONFIG_PATH=$ENV{PKG_CONFIG_PATH})")
endif()
message(STATUS "pkg-config --cflags --libs missive: ${flags}")
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CXX} ${SOURCE_DIR}/tests/install/main.cpp ${flags} -o ${outside}/uses_missive_pc)
# A shared libmissive is found at run time like any library outside the default path.
set(ENV{LD_LIBRARY_PATH} ${stage}/${LIBDIR})
run(${outside}/uses_missive_pc)
# The outbox the same way.
execute_process(COMMAND pkg-config --cflags --libs missive-outbox-sqlite
  OUTPUT_VARIABLE flags RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config does not know missive-outbox-sqlite")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CXX} ${SOURCE_DIR}/tests/install/outbox.cpp ${flags} -o ${outside}/uses_outbox_pc)
execute_process(COMMAND pkg-config --cflags --libs missive-outbox-postgres
  OUTPUT_VARIABLE flags RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config does not know missive-outbox-postgres")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CXX} ${SOURCE_DIR}/tests/install/outbox_postgres.cpp ${flags}
    -o ${outside}/uses_outbox_postgres_pc)
run(${outside}/uses_outbox_postgres_pc)
