/*
 * reassembly.c - the frames lwIP's IP reassembly holds (port/held.h).
 * Not a file of its own: the build appends it to ip4_frag.c (with
 * SHUNT_REASSEMBLY_IP6 undefined) and to ip6_frag.c (defined).
 */
#include "held.h"

#ifdef SHUNT_REASSEMBLY_IP6
unsigned shunt_reassembly_frames_ip6(void)
{
    return ip6_reass_pbufcount;
}
#else
unsigned shunt_reassembly_frames_ip4(void)
{
    return ip_reass_pbufcount;
}
#endif
