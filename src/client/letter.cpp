#include <missive/client/letter.hpp>
#include <missive/client/prepare.hpp>

#include <utility>

namespace missive::client {

Letter::Letter(mime::Message message)
    : envelope(envelope_of(message))
    , content(std::move(message)) {}

Letter::Letter(smtp::Envelope e, mime::Message message)
    : envelope(std::move(e))
    , content(std::move(message)) {}

Letter::Letter(smtp::Envelope e, std::string text)
    : envelope(std::move(e))
    , content(std::move(text)) {}

Letter::Letter(smtp::Envelope e, std::filesystem::path file)
    : envelope(std::move(e))
    , content(std::move(file)) {}

Letter::Letter(smtp::Envelope e, MessageSource source)
    : envelope(std::move(e))
    , content(std::move(source)) {}

}  // namespace missive::client
