/*
 * sv_sha256.h - SHA-256 (FIPS 180-4), for provenance: reports record the
 * digest of the script and of every input file so that a result can be
 * traced to the exact bytes it came from.
 */
#ifndef SV_SHA256_H
#define SV_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sv_sha256 {
    uint32_t h[8];
    uint64_t len;        /* bytes hashed so far */
    unsigned char buf[64];
    size_t nbuf;         /* bytes waiting in buf */
} sv_sha256;

void sv_sha256_init(sv_sha256 *s);
void sv_sha256_update(sv_sha256 *s, const void *data, size_t n);
/* Writes the 32-byte digest; s must be re-initialised before reuse. */
void sv_sha256_final(sv_sha256 *s, unsigned char out[32]);
/* Lower-case hexadecimal of a digest: 64 characters and a NUL. */
void sv_sha256_hex(const unsigned char digest[32], char out[65]);

#ifdef __cplusplus
}
#endif
#endif
