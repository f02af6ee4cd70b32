/*! \file scp03_int.h
 * Internal to libgp: SCP03 session steps shared by the APDU form (scp03.c) and the TLV form (scp03t.c) of
 * INITIALIZE UPDATE and EXTERNAL AUTHENTICATE (GP Amd D §7.1). Not installed, not part of the public API.
 */
#pragma once

#include <stdint.h>

#include <sgp02/gp/scp03.h>

/*! Start a new session on the host side for INITIALIZE UPDATE (GP Amd D §7.1.1) built into out (out_size octets,
 *  need of them used): checks the arguments, clears s, keeps kvn and the host challenge.
 *  \returns 0, -EINVAL (missing argument) or -EMSGSIZE (out_size < need) */
int gp_scp03_init_update_start(struct gp_scp03_session *s, uint8_t kvn, const uint8_t host_challenge[8],
				const uint8_t *out, size_t out_size, size_t need);

/*! May the host build EXTERNAL AUTHENTICATE with sec_level now (keys derived, channel not yet open), into out
 *  (out_size octets, need of them used)?
 *  \returns 0, -EINVAL (no session or out, keys not derived or already authenticated), -ENOTSUP (security level)
 *  or -EMSGSIZE (out_size < need) */
int gp_scp03_ext_auth_ready(const struct gp_scp03_session *s, uint8_t sec_level, const uint8_t *out,
			    size_t out_size, size_t need);

/*! EXTERNAL AUTHENTICATE done (sent by the host, or verified by the card): its C-MAC is the next chaining value,
 *  the encryption counter restarts and the channel is open at sec_level. */
void gp_scp03_session_open(struct gp_scp03_session *s, uint8_t sec_level, const uint8_t mac[16]);
