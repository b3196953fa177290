# ctest "install": stage `cmake --install`, then build and run tests/install against it with
# find_package, and check the pkg-config file. Arguments: BUILD_DIR SOURCE_DIR GENERATOR.
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
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install -B ${outside} -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${stage})
run(${CMAKE_COMMAND} --build ${outside})
run(${outside}/uses_missive)

# pkg-config: compile and link the same program with the flags missive.pc gives.
set(ENV{PKG_CONFIG_PATH} ${stage}/lib/pkgconfig:${stage}/lib/x86_64-linux-gnu/pkgconfig)
execute_process(COMMAND pkg-config --cflags --libs missive
  OUTPUT_VARIABLE flags RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config does not know missive")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(c++ ${SOURCE_DIR}/tests/install/main.cpp ${flags} -o ${outside}/uses_missive_pc)
run(${outside}/uses_missive_pc)
