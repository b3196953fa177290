#include <missive/error.hpp>
#include <missive/mime/part.hpp>

#include <utility>

namespace missive::mime {

Part Part::text(std::string body, std::string subtype) {
    Part p;
    p.type = {"text", std::move(subtype), {{"charset", "utf-8"}}};
    p.content = std::move(body);
    return p;
}

Part Part::bytes(std::string data, MediaType type) {
    Part p;
    p.type = std::move(type);
    p.content = std::move(data);
    return p;
}

Part Part::file(std::filesystem::path path, MediaType type) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error(errc::invalid_input, "attachment '" + path.string() +
                                             "' is not a readable regular file" +
                                             (ec ? ": " + ec.message() : std::string()));
    }
    Part p;
    p.type = std::move(type);
    p.content = FileContent{std::move(path)};
    return p;
}

Part Part::multipart(std::string subtype, std::vector<Part> children) {
    Part p;
    p.type = {"multipart", std::move(subtype), {}};
    p.parts = std::move(children);
    return p;
}

}  // namespace missive::mime
