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
