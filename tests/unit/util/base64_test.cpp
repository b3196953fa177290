#include <missive/util/base64.hpp>

#include <gtest/gtest.h>

using missive::util::base64_decode;
using missive::util::base64_encode;

TEST(Base64, Rfc4648Vectors) {
    const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                           {"f", "Zg=="},
                                                           {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="},
                                                           {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(plain), encoded);
        EXPECT_EQ(base64_decode(encoded), plain);
    }
    const std::string binary("\0\xff\xfe\x01", 4);
    EXPECT_EQ(base64_decode(base64_encode(binary)), binary);
}

TEST(Base64, StrictDecoding) {
    for (const char* bad :
         {"Zg=", "Zg", "Z===", "Zm9v\r\n", "Zm 9v", "Zm9=v", "Zh==", "Zm9vYm=="}) {
        EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
    }
}
