#include <missive/util/base64.hpp>

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <utility>

using missive::util::base64_decode;
using missive::util::base64_encode;

TEST(Base64, Rfc4648Section10Vectors) {
    const std::array<std::pair<const char*, const char*>, 7> vectors = {{{"", ""},
                                                                         {"f", "Zg=="},
                                                                         {"fo", "Zm8="},
                                                                         {"foo", "Zm9v"},
                                                                         {"foob", "Zm9vYg=="},
                                                                         {"fooba", "Zm9vYmE="},
                                                                         {"foobar", "Zm9vYmFy"}}};
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(plain), encoded);
        EXPECT_EQ(base64_decode(encoded), plain) << encoded;
    }
}

TEST(Base64, EveryByteValueRoundTrips) {
    std::string all;
    for (int i = 0; i < 256; ++i) {
        all += static_cast<char>(i);
    }
    const std::string encoded = base64_encode(all);
    EXPECT_EQ(encoded.substr(0, 24), "AAECAwQFBgcICQoLDA0ODxAR");
    EXPECT_EQ(encoded.substr(encoded.size() - 8), "/P3+/w==");  // '+' and '/' (RFC 4648 4)
    EXPECT_EQ(base64_decode(encoded), all);
    EXPECT_EQ(base64_encode(std::string("\0\xff\xfe", 3)), "AP/+");
    EXPECT_EQ(base64_decode("AP/+"), std::string("\0\xff\xfe", 3));
}

TEST(Base64, RejectsWrongLength) {
    for (const char* bad : {"Z", "Zg", "Zg=", "Zm9vY", "Zm9vYg", "Zm9vYg="}) {
        EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
    }
}

TEST(Base64, RejectsCharactersOutsideTheAlphabet) {
    // White space, the URL-safe alphabet (RFC 4648 5), NUL and 8-bit bytes.
    for (const std::string& bad :
         {std::string("Zm9v\r\n"), std::string("Zm 9v"), std::string(" Zm9v"), std::string("Zm9-"),
          std::string("Zm9_"), std::string("Zm9\0", 4), std::string("Zm9\xC3"),
          std::string("Zm9.")}) {
        EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
    }
}

TEST(Base64, RejectsBadPadding) {
    for (const char* bad : {"====", "Z===", "=Zm9", "Zm=v", "Zg==Zm9v", "Zm8=Zm9v", "Zg=a"}) {
        EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
    }
}

TEST(Base64, RejectsNonZeroBitsUnderThePadding) {
    // RFC 4648 3.5: "Zh==" and "Zm9=" would decode as "f" and "fo" only by ignoring bits.
    for (const char* bad : {"Zh==", "Zm9=", "Zm9vYh==", "Zm9vYmF="}) {
        EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
    }
}

namespace {

std::string bytes_0_to_n(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        s += static_cast<char>(i * 7 + 3);
    }
    return s;
}

std::string encode_lines(std::string_view bytes) {
    std::string out;
    missive::util::base64_encode_lines(bytes, out);
    return out;
}

}  // namespace

TEST(Base64Lines, Rfc4648Section10VectorsEachOnOneLine) {
    const std::array<std::pair<const char*, const char*>, 7> vectors = {
        {{"", ""},
         {"f", "Zg==\r\n"},
         {"fo", "Zm8=\r\n"},
         {"foo", "Zm9v\r\n"},
         {"foob", "Zm9vYg==\r\n"},
         {"fooba", "Zm9vYmE=\r\n"},
         {"foobar", "Zm9vYmFy\r\n"}}};
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(encode_lines(plain), encoded) << plain;
    }
}

TEST(Base64Lines, AppendsAndEmptyInputAppendsNothing) {
    std::string out = "head\r\n";
    missive::util::base64_encode_lines("", out);
    EXPECT_EQ(out, "head\r\n");
    missive::util::base64_encode_lines("foo", out);
    EXPECT_EQ(out, "head\r\nZm9v\r\n");
}

TEST(Base64Lines, LinesAreExactly76CharactersAt57Bytes) {
    // RFC 2045 6.8: 57 bytes fill a line of 76; one byte more starts a new line.
    const std::string line57 = encode_lines(bytes_0_to_n(57));
    ASSERT_EQ(line57.size(), 78U);
    EXPECT_EQ(line57.substr(76), "\r\n");
    EXPECT_EQ(line57.substr(0, 76), base64_encode(bytes_0_to_n(57)));

    const std::string line56 = encode_lines(bytes_0_to_n(56));  // 76 characters with padding
    EXPECT_EQ(line56.size(), 78U);
    EXPECT_EQ(line56.substr(75), "=\r\n");

    const std::string line58 = encode_lines(bytes_0_to_n(58));
    ASSERT_EQ(line58.size(), 78U + 6U);
    EXPECT_EQ(line58.substr(0, 78), line57);
    EXPECT_EQ(line58.substr(78), base64_encode(bytes_0_to_n(58).substr(57)) + "\r\n");
}

TEST(Base64Lines, EverySizeUpTo400IsTheUnwrappedEncodingInLines) {
    for (std::size_t n = 0; n <= 400; ++n) {
        const std::string in = bytes_0_to_n(n);
        const std::string out = encode_lines(in);
        std::string joined;
        std::size_t pos = 0;
        while (pos < out.size()) {
            const std::size_t eol = out.find("\r\n", pos);
            ASSERT_NE(eol, std::string::npos) << n;
            const std::size_t length = eol - pos;
            const bool last = eol + 2 == out.size();
            EXPECT_TRUE(last ? length > 0 && length <= 76 : length == 76) << n << " at " << pos;
            joined += out.substr(pos, length);
            pos = eol + 2;
        }
        EXPECT_EQ(joined, base64_encode(in)) << n;
    }
}

TEST(Base64Lines, ChunksOfMultiplesOf57ConcatenateToTheWhole) {
    const std::string in = bytes_0_to_n(1000);
    const std::string whole = encode_lines(in);
    for (const std::size_t chunk : {57U, 114U, 171U, 57U * 10U}) {
        std::string out;
        for (std::size_t pos = 0; pos < in.size(); pos += chunk) {
            missive::util::base64_encode_lines(std::string_view(in).substr(pos, chunk), out);
        }
        EXPECT_EQ(out, whole) << chunk;
    }
}

TEST(Base64Mime, DecodesWhatEncodeLinesWrites) {
    for (const std::size_t n : {0U, 1U, 2U, 3U, 56U, 57U, 58U, 256U, 1000U}) {
        const std::string in = bytes_0_to_n(n);
        EXPECT_EQ(missive::util::base64_decode_mime(encode_lines(in)), in) << n;
    }
    std::string all;
    for (int i = 0; i < 256; ++i) {
        all += static_cast<char>(i);
    }
    EXPECT_EQ(missive::util::base64_decode_mime(encode_lines(all)), all);
}

TEST(Base64Mime, Rfc4648Section10Vectors) {
    const std::array<std::pair<const char*, const char*>, 7> vectors = {{{"", ""},
                                                                         {"f", "Zg=="},
                                                                         {"fo", "Zm8="},
                                                                         {"foo", "Zm9v"},
                                                                         {"foob", "Zm9vYg=="},
                                                                         {"fooba", "Zm9vYmE="},
                                                                         {"foobar", "Zm9vYmFy"}}};
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(missive::util::base64_decode_mime(encoded), plain) << encoded;
    }
}

TEST(Base64Mime, SkipsLineBreaksSpacesAndTabs) {
    EXPECT_EQ(missive::util::base64_decode_mime("Zm9v\r\nYmFy\r\n"), "foobar");
    EXPECT_EQ(missive::util::base64_decode_mime(" Zm 9v\tYm\nFy \r\n\r\n"), "foobar");
    EXPECT_EQ(missive::util::base64_decode_mime("Zm9vYg=\r\n="), "foob");
    EXPECT_EQ(missive::util::base64_decode_mime("\r\n \t"), "");
}

TEST(Base64Mime, AcceptsMissingPadding) {
    EXPECT_EQ(missive::util::base64_decode_mime("Zg"), "f");
    EXPECT_EQ(missive::util::base64_decode_mime("Zg="), "f");
    EXPECT_EQ(missive::util::base64_decode_mime("Zm8"), "fo");
    EXPECT_EQ(missive::util::base64_decode_mime("Zm9vYmE"), "fooba");
    EXPECT_EQ(missive::util::base64_decode_mime("Zh=="), "f");  // bits under the padding ignored
}

TEST(Base64Mime, RejectsOtherCharactersAndBadPadding) {
    for (const std::string& bad :
         {std::string("Z"), std::string("Zm9vY"), std::string("Zm9v="), std::string("Zg==="),
          std::string("Zm8=="), std::string("Zg==Zm9v"), std::string("Zg=a"), std::string("Zm9-"),
          std::string("Zm9_"), std::string("Zm9\0", 4), std::string("Zm9\xC3"),
          std::string("Zm9v\v"), std::string("Zm9.")}) {
        EXPECT_EQ(missive::util::base64_decode_mime(bad), std::nullopt) << bad;
    }
}
