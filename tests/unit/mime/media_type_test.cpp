#include <missive/error.hpp>
#include <missive/mime/media_type.hpp>

#include "mime/parameters.hpp"

#include <gtest/gtest.h>

#include <string>

using missive::mime::guess_media_type;
using missive::mime::MediaType;
using missive::mime::detail::format_parameters;

TEST(MediaType, ParsesTypeSubtypeAndParameters) {
    const MediaType m = MediaType::parse(" Text/HTML ; Charset=UTF-8; name=\"a \\\"b\\\".html\";");
    EXPECT_EQ(m.essence(), "text/html");
    ASSERT_EQ(m.params.size(), 2U);
    ASSERT_NE(m.param("charset"), nullptr);
    EXPECT_EQ(*m.param("CHARSET"), "UTF-8");
    EXPECT_EQ(*m.param("name"), "a \"b\".html");
}

TEST(MediaType, RefusesWhatIsNotAType) {
    for (const char* bad : {"", "text", "text/", "/plain", "text/plain; charset", "text/plain; x=",
                            "text/plain; x=\"open", "text/plain junk", "text/plain\r\nBcc: x"}) {
        EXPECT_THROW((void)MediaType::parse(bad), missive::Error) << bad;
    }
}

TEST(MediaType, GuessesFromTheExtension) {
    EXPECT_EQ(guess_media_type("Report.PDF").essence(), "application/pdf");
    EXPECT_EQ(guess_media_type("/tmp/x.y/photo.jpeg").essence(), "image/jpeg");
    EXPECT_EQ(guess_media_type("a.docx").essence(),
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    EXPECT_EQ(guess_media_type("notes.txt").essence(), "text/plain");
    EXPECT_EQ(guess_media_type("archive.zst").essence(), "application/zstd");
    EXPECT_EQ(guess_media_type("README").essence(), "application/octet-stream");
    EXPECT_EQ(guess_media_type("dir.d/README").essence(), "application/octet-stream");
    EXPECT_EQ(guess_media_type("x.unknown").essence(), "application/octet-stream");
}

TEST(Parameters, TokenQuotedOrExtended) {
    EXPECT_EQ(format_parameters({{"charset", "utf-8"}}), "; charset=utf-8");
    EXPECT_EQ(format_parameters({{"filename", "my report.pdf"}}), "; filename=\"my report.pdf\"");
    EXPECT_EQ(format_parameters({{"filename", "a\"b\\c"}}), "; filename=\"a\\\"b\\\\c\"");
    EXPECT_EQ(format_parameters({{"boundary", "=_x.0"}}), "; boundary=\"=_x.0\"");
    EXPECT_EQ(format_parameters({{"filename", "€.txt"}}), "; filename*=utf-8''%E2%82%AC.txt");
    EXPECT_EQ(format_parameters({{"filename", ""}}), "; filename=\"\"");
}

TEST(Parameters, LongValuesUseContinuationsWithoutSplittingAnOctet) {
    const std::string name = "Überweisungsbestätigung für das Geschäftsjahr 2026 — endgültig.pdf";
    const std::string out = format_parameters({{"filename", name}});
    EXPECT_EQ(out.rfind("; filename*0*=utf-8''%C3%9Cberweisungsbest%C3%A4tigung", 0), 0U) << out;
    EXPECT_NE(out.find("; filename*1*="), std::string::npos) << out;
    // Every piece fits a line, and no %XX is cut.
    std::size_t at = 0;
    while ((at = out.find("; ", at)) != std::string::npos) {
        const std::size_t next = out.find("; ", at + 2);
        const std::string piece = out.substr(at + 2, next - at - 2);
        EXPECT_LE(piece.size(), 78U);
        const auto pct = piece.rfind('%');
        if (pct != std::string::npos) {
            EXPECT_LE(pct + 3, piece.size()) << piece;
        }
        at += 2;
    }
    const std::string ascii(100, 'a');
    EXPECT_EQ(format_parameters({{"name", ascii}}),
              "; name*0*=utf-8''" + std::string(60, 'a') + "; name*1*=" + std::string(40, 'a'));
}
