// missive dkim: make a DKIM signing key (`keygen`) and print the DNS TXT record that publishes
// its public half (`dns`). The signing itself is the library's (dkim::Signer).
#include <missive/dkim/key.hpp>
#include <missive/error.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>

namespace missive::cli {

namespace {

struct KeygenFlags {
    std::string algorithm = "ed25519";
    int bits = 2048;
    bool bits_given = false;
    std::string out;
};

struct DnsFlags {
    std::string key;
    std::string selector;
    std::string domain;
};

// Writes the key to a new file, readable by its owner only (created so: never another mode in
// between). An existing file is left alone: it may be the key a published record belongs to.
int write_key(const std::string& path, const Secret& pem) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          S_IRUSR | S_IWUSR);
    if (fd < 0) {
        const int error = errno;
        std::cerr << "missive dkim keygen: cannot create " << path << ": "
                  << std::generic_category().message(error)
                  << (error == EEXIST ? " (an existing key is never overwritten)" : "") << '\n';
        return exit_cant_create;
    }
    const std::string_view text = pem.reveal();
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int error = errno;
            ::close(fd);
            ::unlink(path.c_str());
            std::cerr << "missive dkim keygen: cannot write " << path << ": "
                      << std::generic_category().message(error) << '\n';
            return exit_io;
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        std::cerr << "missive dkim keygen: cannot write " << path << ": "
                  << std::generic_category().message(errno) << '\n';
        return exit_io;
    }
    return exit_ok;
}

int run_keygen(const KeygenFlags& flags) {
    const dkim::KeyType type =
        flags.algorithm == "rsa" ? dkim::KeyType::rsa : dkim::KeyType::ed25519;
    if (type == dkim::KeyType::ed25519 && flags.bits_given) {
        std::cerr << "missive dkim keygen: --bits is for RSA keys; Ed25519 keys have one size\n";
        return exit_usage;
    }
    const dkim::PrivateKey key = dkim::PrivateKey::generate(type, flags.bits);
    const int status = write_key(flags.out, key.to_pem());
    if (status == exit_ok) {
        std::cout << "wrote " << flags.out << " (" << dkim::name(type);
        if (type == dkim::KeyType::rsa) {
            std::cout << ", " << key.bits() << " bits";
        }
        std::cout << ", mode 0600)\npublish it: missive dkim dns --key " << flags.out
                  << " --selector SELECTOR --domain DOMAIN\n";
    }
    return status;
}

int run_dns(const DnsFlags& flags) {
    const dkim::PrivateKey key = dkim::PrivateKey::from_pem_file(flags.key);
    std::cout << dkim::dns_txt_record(key, flags.selector, flags.domain) << '\n';
    return exit_ok;
}

// Runs a subcommand's work with the error handling every subcommand shares.
template <typename Work>
void run_reporting(const char* name, int& status, Work work) {
    try {
        status = work();
    } catch (const Error& e) {
        std::cerr << "missive dkim " << name << ": " << e.what() << '\n';
        status = exit_code_for(e);  // a bad key, selector or domain: 78 (EX_CONFIG)
    }
}

}  // namespace

void add_dkim(CLI::App& app, int& status) {
    CLI::App* dkim = app.add_subcommand(
        "dkim", "DKIM keys: make one (keygen) and print the DNS record that publishes it (dns)");
    dkim->require_subcommand(1);

    auto keygen = std::make_shared<KeygenFlags>();
    CLI::App* gen = dkim->add_subcommand(
        "keygen", "Make a DKIM signing key and write it as PEM (PKCS#8) to a new file, mode 0600");
    gen->add_option("--algorithm", keygen->algorithm,
                    "ed25519 (RFC 8463: short, fast) or rsa (understood by every verifier; RFC "
                    "8463 suggests signing with both)")
        ->check(CLI::IsMember({"rsa", "ed25519"}))
        ->capture_default_str();
    gen->add_option("--bits", keygen->bits, "Size of an RSA key (1024 to 4096; 2048 by default)")
        ->check(CLI::Range(dkim::PrivateKey::min_rsa_bits, dkim::PrivateKey::max_rsa_bits))
        ->each([keygen](const std::string&) { keygen->bits_given = true; });
    gen->add_option("--out", keygen->out, "The key file to create (never overwritten)")->required();
    gen->callback([keygen, &status] {
        run_reporting("keygen", status, [&] { return run_keygen(*keygen); });
    });

    auto dns = std::make_shared<DnsFlags>();
    CLI::App* record = dkim->add_subcommand(
        "dns",
        "Print the DNS TXT record to publish for a key: SELECTOR._domainkey.DOMAIN. IN TXT "
        "\"v=DKIM1; k=...; p=...\" (in strings of at most 255 characters)");
    record->add_option("--key", dns->key, "The private key file (PEM)")->required();
    record->add_option("--selector", dns->selector, "The selector (s= of the signatures)")
        ->required();
    record->add_option("--domain", dns->domain, "The signing domain (d= of the signatures)")
        ->required();
    record->callback(
        [dns, &status] { run_reporting("dns", status, [&] { return run_dns(*dns); }); });
}

}  // namespace missive::cli
