#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace missive::testing {

/**
 * One accepted connection of a `Server`, as a handler sees it. Every read has a deadline
 * (`Server::Options::io_timeout`) so that a test never hangs; a read that times out or meets
 * EOF throws `std::runtime_error`, which ends the handler quietly.
 */
class Conversation {
public:
    Conversation() = default;
    Conversation(const Conversation&) = delete;
    Conversation& operator=(const Conversation&) = delete;
    Conversation(Conversation&&) = delete;
    Conversation& operator=(Conversation&&) = delete;
    virtual ~Conversation() = default;
    /** Sends `line` followed by CRLF (or byte by byte when splitting is on). */
    virtual void send_line(std::string_view line) = 0;
    /** Sends exactly these bytes. */
    virtual void send_raw(std::string_view bytes) = 0;
    /** Reads one line up to LF; returns it without CR LF. */
    virtual std::string read_line() = 0;
    /** Reads DATA content up to and including the line "."; returns it with CRLFs, without the
     * final ".\r\n", not dot-unstuffed (exactly the wire bytes). */
    virtual std::string read_data() = 0;
    /** Reads exactly `n` bytes (a BDAT chunk). */
    virtual std::string read_exact(std::size_t n) = 0;
    /** Waits until the client closes the connection (or the timeout). */
    virtual void wait_eof() = 0;
    /** Closes the connection now. `reset` sends TCP RST instead of FIN. */
    virtual void close(bool reset = false) = 0;
    /** Sends every later reply one byte per write. */
    virtual void set_split(bool on) = 0;
    /** Sleeps. */
    virtual void delay(std::chrono::milliseconds ms) = 0;
};

/** Where a Server listens and how long it waits for the client. */
struct ServerOptions {
    std::string address = "127.0.0.1";            ///< an IPv4 literal
    std::chrono::milliseconds io_timeout{10000};  ///< each read gives up after this long
    /// Runs each connection on a thread of its own, so that a client may hold several at once
    /// (a client::Pool); the handler must then be thread-safe. Off: one after another.
    bool concurrent = false;
};

/**
 * A scripted SMTP server on a loopback port, in-process, for tests (also users' tests). It accepts
 * connections one after another in a thread of its own (or each on a thread of its own with
 * `ServerOptions::concurrent`), runs a script or a handler on each, and
 * records every byte each client sent.
 *
 * A script is text, one step per line (MailKit-style transcripts):
 * - `S: text`   send `text` CRLF (`S:` alone: an empty line)
 * - `C: text`   read one line and expect `text` (`C: *` takes any line, `C:` alone an empty one);
 *               a difference is recorded in `mismatches()` and the script goes on
 * - `!data`     read DATA content up to the final "." line
 * - `!bdat`     read the chunk announced by the previous `C:` line `BDAT <n> [LAST]` (when that
 *               line is not one, a mismatch is recorded and nothing is read)
 * - `!raw text` send `text` exactly, with `\r`, `\n`, `\0` (NUL), `\\` escapes and no added CRLF
 * - `!split` / `!nosplit`  send replies one byte per write, or normally
 * - `!delay ms` pause
 * - `!drop`     close the connection (FIN: the client reads the end of the stream);
 *   `!reset`    close it with TCP RST (SO_LINGER 0: the client's next call fails)
 * - `!eof`      wait until the client closes
 * Lines that are empty or start with `#` are ignored. At the end of the script the server waits
 * for the client to close, then closes too. A step that reads ends the script quietly when the
 * client closes or stays silent for `io_timeout`.
 */
class Server {
public:
    using Handler = std::function<void(Conversation&)>;

    using Options = ServerOptions;

    /** Runs `script` on every connection.
     * @throws std::invalid_argument for a bad step: "script line 2: 'X: what' is not a step" */
    explicit Server(std::string_view script, Options options = {});
    /** Runs `scripts[i]` on connection i; the last one for every later connection.
     * @throws std::invalid_argument for a bad step (naming its line) or no script at all */
    explicit Server(const std::vector<std::string>& scripts, Options options = {});
    /** Runs `handler` on every connection. @throws std::invalid_argument for an empty one */
    explicit Server(Handler handler, Options options = {});
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    Server(Server&&) = delete;
    Server& operator=(Server&&) = delete;
    /** Stops the server: closes the listener and any connection, joins the thread. Safe while
     * a client is connected: a step or handler blocked in a read, a write or a delay ends at
     * once (a handler that sleeps on its own is waited for). */
    ~Server();

    /** @return the port it listens on (chosen by the kernel). */
    [[nodiscard]] std::uint16_t port() const;

    /** @return the address it listens on. */
    [[nodiscard]] const std::string& address() const;

    /** Waits until `count` connections have finished their script or handler.
     * @return false when `timeout` passed first */
    bool wait_for(std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /** @return every byte connection `index` sent, in order (empty if there was none). */
    [[nodiscard]] std::string received(std::size_t index = 0) const;

    /** @return the number of connections accepted so far. */
    [[nodiscard]] std::size_t connections() const;

    /** @return one line per `C:` step that did not match: "expected 'X', got 'Y'". */
    [[nodiscard]] std::vector<std::string> mismatches() const;

    /** Stops early (the destructor does it too). */
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace missive::testing
