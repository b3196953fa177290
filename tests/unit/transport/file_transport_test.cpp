#include <missive/error.hpp>
#include <missive/transport/file_transport.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace fs = std::filesystem;
using missive::transport::FileTransport;

namespace {

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

fs::path scratch() {
    static std::mt19937_64 rng(std::random_device{}());
    return fs::temp_directory_path() / ("missive-file-transport-" + std::to_string(rng()));
}

}  // namespace

TEST(FileTransport, WritesTheMessageAndItsEnvelope) {
    const fs::path dir = scratch() / "mail";
    FileTransport t(dir);
    const std::string text = "Subject: hi\r\n\r\nbody\r\n";
    const auto result = t.send(
        {.from = "ada@example.org", .to = {"bob@example.com", R"("odd\"one"@example.com)"}}, text);
    EXPECT_TRUE(result.all_accepted());
    ASSERT_FALSE(result.queue_id.empty());
    EXPECT_EQ(read(dir / (result.queue_id + ".eml")), text);
    EXPECT_EQ(read(dir / (result.queue_id + ".json")),
              R"({"from":"ada@example.org","to":["bob@example.com","\"odd\\\"one\"@example.com"]})"
              "\n");
    ASSERT_TRUE(result.data_reply);
    EXPECT_EQ(result.data_reply->to_string(),
              "250 2.0.0 saved as " + (dir / (result.queue_id + ".eml")).string());
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) {
        ++files;
    }
    EXPECT_EQ(files, 2U) << "no .part file left behind";
}

TEST(FileTransport, ADirectoryThatCannotBeMadeIsAnError) {
    const fs::path file = scratch();
    std::ofstream(file) << "not a directory";
    FileTransport t(file / "mail");
    try {
        (void)t.send({.from = "a@example.org", .to = {"b@example.org"}}, "x\r\n");
        FAIL() << "wrote below a file";
    } catch (const missive::Error& e) {
        EXPECT_EQ(e.kind(), missive::errc::config);
        EXPECT_NE(std::string(e.what()).find("cannot make " + (file / "mail").string()),
                  std::string::npos)
            << e.what();
    }
}
