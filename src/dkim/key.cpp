#include <missive/dkim/key.hpp>
#include <missive/error.hpp>
#include <missive/util/base64.hpp>

#include "dkim/names.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <fstream>
#include <utility>

namespace missive::dkim {

namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

// OpenSSL's messages say nothing useful here (and are kept away from errors on principle):
// the queue is emptied so that no later, unrelated check reads them.
[[noreturn]] void fail(std::string message) {
    ERR_clear_error();
    throw Error(errc::config, std::move(message));
}

// An encrypted key would make OpenSSL ask for a pass phrase on the terminal: never.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) {
    return -1;
}

KeyType type_of(EVP_PKEY* key) {
    switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_RSA:
            return KeyType::rsa;
        case EVP_PKEY_ED25519:
            return KeyType::ed25519;
        default:
            fail(std::string("DKIM key: the key's type is ") + EVP_PKEY_get0_type_name(key) +
                 "; DKIM signs with RSA or Ed25519");
    }
}

void check_size(KeyType type, int bits) {
    if (type == KeyType::rsa &&
        (bits < PrivateKey::min_rsa_bits || bits > PrivateKey::max_rsa_bits)) {
        fail("DKIM key: an RSA key of " + std::to_string(bits) +
             " bits; DKIM keys have 1024 to 4096 bits (RFC 8301 3.2)");
    }
}

}  // namespace

struct PrivateKey::Impl {
    PkeyPtr key{nullptr, EVP_PKEY_free};
    KeyType type = KeyType::rsa;
    int bits = 0;
};

PrivateKey::PrivateKey(std::shared_ptr<const Impl> impl)
    : impl_(std::move(impl)) {}

PrivateKey PrivateKey::from_pem(const Secret& pem) {
    const std::string_view text = pem.reveal();
    if (text.find("ENCRYPTED") != std::string_view::npos) {
        fail(
            "DKIM key: the PEM key is encrypted; store it without a pass phrase (`openssl pkey "
            "-in KEY -out PLAIN`) and protect the file instead (mode 0600)");
    }
    const BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), BIO_free);
    if (!bio) {
        fail("DKIM key: out of memory");
    }
    auto impl = std::make_shared<Impl>();
    impl->key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    if (!impl->key) {
        fail(R"(DKIM key: not a PEM private key (PKCS#8 "PRIVATE KEY" or "RSA PRIVATE KEY"))");
    }
    impl->type = type_of(impl->key.get());
    impl->bits = EVP_PKEY_get_bits(impl->key.get());
    check_size(impl->type, impl->bits);
    return PrivateKey(std::move(impl));
}

PrivateKey PrivateKey::from_pem_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fail("DKIM key file '" + path.string() + "' cannot be read");
    }
    // Read at once into a buffer of the right size: a growing string would leave copies of the
    // key in memory it gave back.
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    in.seekg(0, std::ios::beg);
    std::string bytes(size > 0 ? static_cast<std::size_t>(size) : 0, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    const Secret text(std::move(bytes));
    if (!in || size < 0) {
        fail("DKIM key file '" + path.string() + "' cannot be read");
    }
    try {
        return from_pem(text);
    } catch (const Error& e) {
        fail("DKIM key file '" + path.string() + "': " + std::string(e.what()).substr(10));
    }
}

PrivateKey PrivateKey::generate(KeyType type, int bits) {
    auto impl = std::make_shared<Impl>();
    if (type == KeyType::rsa) {
        check_size(type, bits);
        impl->key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
    } else {
        impl->key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    }
    if (!impl->key) {
        fail("DKIM key: OpenSSL could not generate a key");
    }
    impl->type = type;
    impl->bits = EVP_PKEY_get_bits(impl->key.get());
    return PrivateKey(std::move(impl));
}

KeyType PrivateKey::type() const {
    return impl_->type;
}

int PrivateKey::bits() const {
    return impl_->bits;
}

std::string PrivateKey::public_key() const {
    EVP_PKEY* const key = impl_->key.get();
    if (impl_->type == KeyType::ed25519) {
        std::array<unsigned char, 32> raw{};
        std::size_t size = raw.size();
        if (EVP_PKEY_get_raw_public_key(key, raw.data(), &size) != 1 || size != raw.size()) {
            fail("DKIM key: OpenSSL could not give the public key");
        }
        return util::base64_encode(
            std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
    }
    const int size = i2d_PUBKEY(key, nullptr);
    if (size <= 0) {
        fail("DKIM key: OpenSSL could not give the public key");
    }
    std::string der(static_cast<std::size_t>(size), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    i2d_PUBKEY(key, &out);
    return util::base64_encode(der);
}

Secret PrivateKey::to_pem() const {
    // Secure memory: the BIO wipes what it held when it is freed.
    const BioPtr bio(BIO_new(BIO_s_secmem()), BIO_free);
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->key.get(), nullptr, nullptr, 0, nullptr,
                                         nullptr) != 1) {
        fail("DKIM key: OpenSSL could not write the key");
    }
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return {std::string(data, static_cast<std::size_t>(size))};
}

std::string PrivateKey::sign_digest(std::string_view sha256_digest) const {
    EVP_PKEY* const key = impl_->key.get();
    const auto* digest = reinterpret_cast<const unsigned char*>(sha256_digest.data());
    std::string signature(static_cast<std::size_t>(EVP_PKEY_get_size(key)), '\0');
    std::size_t size = signature.size();
    auto* out = reinterpret_cast<unsigned char*>(signature.data());
    if (impl_->type == KeyType::rsa) {
        const PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr), EVP_PKEY_CTX_free);
        if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
            EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1 ||
            EVP_PKEY_sign(ctx.get(), out, &size, digest, sha256_digest.size()) != 1) {
            fail("DKIM: OpenSSL could not sign with the RSA key");
        }
    } else {
        const MdCtxPtr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
        if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1 ||
            EVP_DigestSign(ctx.get(), out, &size, digest, sha256_digest.size()) != 1) {
            fail("DKIM: OpenSSL could not sign with the Ed25519 key");
        }
    }
    signature.resize(size);
    return signature;
}

std::string_view name(KeyType type) {
    return type == KeyType::rsa ? "rsa" : "ed25519";
}

std::string dns_txt_value(const PrivateKey& key) {
    return "v=DKIM1; k=" + std::string(name(key.type())) + "; p=" + key.public_key();
}

std::string dns_txt_record(const PrivateKey& key, std::string_view selector,
                           std::string_view domain) {
    const std::string owner = detail::checked_selector(selector) + "._domainkey." +
                              detail::checked_domain(domain, "DKIM domain") + '.';
    const std::string text = dns_txt_value(key);
    std::string record = owner + " IN TXT";
    // The text has no '"' or '\\' to escape: base64, letters, digits, '=', ';' and spaces.
    for (std::size_t at = 0; at < text.size(); at += 255) {
        record += " \"";
        record += text.substr(at, 255);
        record += '"';
    }
    return record;
}

}  // namespace missive::dkim
