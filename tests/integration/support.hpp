#pragma once
// Shared by the integration tests: where the fixture's servers are, and how to find what they
// delivered.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace missive::integration {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Settings come from the environment, or from the KEY=VALUE file the fixture wrote, named by
// MISSIVE_TEST_ENV.
inline std::string setting(const char* key) {
    if (const char* v = std::getenv(key)) {  // NOLINT(concurrency-mt-unsafe): tests, one thread
        return v;
    }
    if (const char* file = std::getenv("MISSIVE_TEST_ENV")) {  // NOLINT(concurrency-mt-unsafe)
        std::ifstream in(file);
        std::string line;
        const std::string prefix = std::string(key) + "=";
        while (std::getline(in, line)) {
            if (line.rfind(prefix, 0) == 0) {
                return line.substr(prefix.size());
            }
        }
    }
    return {};
}

inline std::uint16_t port_of(const char* key) {
    const std::string v = setting(key);
    if (v.empty()) {
        return 0;
    }
    return static_cast<std::uint16_t>(std::stoi(v));
}

#define REQUIRE_SERVER(port)                                               \
    if ((port) == 0) {                                                     \
        GTEST_SKIP() << "server not started (run through ctest fixtures)"; \
    }

inline std::string unique_token() {
    static std::mt19937_64 rng(std::random_device{}());
    return "t" + std::to_string(rng());
}

inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Waits until every file below `dir` that contains `token` has been written; Postfix delivers
// asynchronously after "queued as".
inline std::vector<fs::path> find_delivered(const fs::path& dir, const std::string& token,
                                            std::size_t count,
                                            std::chrono::milliseconds timeout = 10s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    std::vector<fs::path> found;
    do {
        found.clear();
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(dir, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            // Skip Maildir's tmp/: a file there is still being written.
            if (it->is_regular_file(ec) && it->path().parent_path().filename() != "tmp" &&
                read_file(it->path()).find(token) != std::string::npos) {
                found.push_back(it->path());
            }
        }
        if (found.size() >= count) {
            return found;
        }
        std::this_thread::sleep_for(50ms);
    } while (std::chrono::steady_clock::now() < until);
    return found;
}

}  // namespace missive::integration
