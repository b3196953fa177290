#pragma once

// Every mechanism missive implements, and `choose`.
#include <missive/sasl/choose.hpp>
#include <missive/sasl/cram_md5.hpp>
#include <missive/sasl/digest_md5.hpp>
#include <missive/sasl/login.hpp>
#include <missive/sasl/mechanism.hpp>
#include <missive/sasl/oauth.hpp>
#include <missive/sasl/oauthbearer.hpp>
#include <missive/sasl/plain.hpp>
#include <missive/sasl/scram.hpp>
#include <missive/sasl/xoauth2.hpp>
