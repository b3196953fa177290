#include "maildir.hpp"

#include <missive/mime/message.hpp>

#include "text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <system_error>

namespace missive::cli {

namespace {

namespace fs = std::filesystem;

std::string unique_name() {
    static std::atomic<unsigned> counter{0};
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
    std::array<char, 256> host{};
    gethostname(host.data(), host.size() - 1);
    std::string h = host.data();
    for (char& c : h) {
        c = c == '/' || c == ':' ? '_' : c;  // Maildir reserves these
    }
    return std::to_string(us / 1000000) + ".M" + std::to_string(us % 1000000) + "P" +
           std::to_string(getpid()) + "Q" + std::to_string(++counter) + "." + h;
}

[[noreturn]] void fail(const char* what, const fs::path& path, int error) {
    throw fs::filesystem_error(what, path, std::error_code(error, std::generic_category()));
}

void make_directory(const fs::path& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
        fail("cannot create directory", path, errno);
    }
}

// Closes the descriptor it holds when it goes out of scope (reporting is close_checked's job).
class Descriptor {
public:
    explicit Descriptor(int fd)
        : fd_(fd) {}

    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    Descriptor(Descriptor&&) = delete;
    Descriptor& operator=(Descriptor&&) = delete;

    ~Descriptor() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

    [[nodiscard]] int get() const { return fd_; }

    // close(2) can report a write error that write(2) did not (NFS, quotas).
    void close_checked(const fs::path& path) {
        const int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) {
            fail("cannot write", path, errno);
        }
    }

private:
    int fd_;
};

void write_all(int fd, std::string_view bytes, const fs::path& path) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("cannot write", path, errno);
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

void sync_directory(const fs::path& path) {
    Descriptor dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0 || ::fsync(dir.get()) != 0) {
        fail("cannot flush directory", path, errno);
    }
    dir.close_checked(path);
}

std::string file_text(const smtp::ReceivedMessage& m, const std::string& peer) {
    std::string recipients;
    for (const auto& r : m.to) {
        recipients += (recipients.empty() ? "<" : ", <") + printable(r) + ">";
    }
    std::string text = "Return-Path: <" + printable(m.from) + ">\n" +
                       "X-Missive-Rcpt: " + recipients + "\n" + "Received: from " +
                       printable(m.helo) + " (" + printable(peer) +
                       ")\n\tby missive capture with " + (m.tls ? "ESMTPS" : "ESMTP") +
                       (m.user.empty() ? "" : "A") + ";\n\t" +
                       mime::format_date(std::chrono::system_clock::now()) + "\n";
    text.reserve(text.size() + m.data.size());
    for (std::size_t i = 0; i < m.data.size(); ++i) {
        if (m.data[i] == '\r' && i + 1 < m.data.size() && m.data[i + 1] == '\n') {
            continue;
        }
        text += m.data[i];
    }
    return text;
}

}  // namespace

void prepare_maildir(const fs::path& dir) {
    if (!fs::exists(dir)) {
        if (dir.has_parent_path()) {
            fs::create_directories(dir.parent_path());
        }
        make_directory(dir);
    }
    for (const char* sub : {"tmp", "new", "cur"}) {
        make_directory(dir / sub);
    }
}

fs::path store_in_maildir(const fs::path& dir, const smtp::ReceivedMessage& m,
                          const std::string& peer) {
    prepare_maildir(dir);
    const std::string name = unique_name();
    const fs::path tmp = dir / "tmp" / name;
    fs::path file = dir / "new" / name;
    Descriptor out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (out.get() < 0) {
        fail("cannot create", tmp, errno);
    }
    try {
        write_all(out.get(), file_text(m, peer), tmp);
        if (::fsync(out.get()) != 0) {
            fail("cannot write", tmp, errno);
        }
        out.close_checked(tmp);
        fs::rename(tmp, file);
    } catch (...) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
    sync_directory(dir / "new");
    return file;
}

}  // namespace missive::cli
