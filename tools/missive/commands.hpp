#pragma once

// The subcommands of the `missive` tool, one file each (send.cpp, sendmail.cpp, capture.cpp).

#include <CLI/CLI.hpp>

namespace missive::cli {

/** Adds `missive send`; when it runs, its callback stores the exit status in `status`. */
void add_send(CLI::App& app, int& status);

/** Adds `missive queue` (list, show, retry, hold, cancel, purge, export, stats). */
void add_queue(CLI::App& app, int& status);

/** Adds `missive deliver`: workers that send the outbox. */
void add_deliver(CLI::App& app, int& status);

/** Adds `missive capture`; when it runs, its callback stores the exit status in `status`. */
void add_capture(CLI::App& app, int& status);

/** Adds `missive dkim` (keygen, dns); its callback stores the exit status in `status`. */
void add_dkim(CLI::App& app, int& status);

/** Adds `missive completion bash|zsh`, which prints the completion script for all of `app`. */
void add_completion(CLI::App& app, int& status);

/**
 * The sendmail interface (`missive sendmail …`, or the binary invoked as `sendmail`): parses
 * sendmail's own option syntax (-t, -i, -oi, -f addr, -F name, -v, recipients), reads the
 * message from stdin and sends it. @return the exit status (sysexits.h)
 */
int run_sendmail(int argc, char** argv);

}  // namespace missive::cli
