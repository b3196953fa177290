#pragma once

/** The five-minute API: everything needed to send a message. */

#include <missive/client/client.hpp>
#include <missive/client/options.hpp>
#include <missive/client/prepare.hpp>
#include <missive/error.hpp>
#include <missive/send.hpp>
#include <missive/smtp/envelope.hpp>
#include <missive/smtp/result.hpp>
