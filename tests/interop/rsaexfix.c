/* OpenSMTPD 6.8 (Debian 12) + OpenSSL 3: smtpd's privilege-separated RSA engine looks for the
   pki name on the provider's internal copy of the RSA key, where it was never set, so every
   TLS handshake fails ("rsa routines::missing private key"; upstream issues #1171 and #1239).
   Preloaded into smtpd, this hands it the name it did set. Assumes a single pki. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
typedef struct rsa_st RSA;
static void *last;
int RSA_set_ex_data(RSA *r, int idx, void *arg) {
	int (*real)(RSA *, int, void *) = (int (*)(RSA *, int, void *))dlsym(RTLD_NEXT, "RSA_set_ex_data");
	if (idx == 0 && arg) last = arg;
	return real(r, idx, arg);
}
void *RSA_get_ex_data(const RSA *r, int idx) {
	void *(*real)(const RSA *, int) = (void *(*)(const RSA *, int))dlsym(RTLD_NEXT, "RSA_get_ex_data");
	void *v = real(r, idx);
	return (v == NULL && idx == 0) ? last : v;
}
