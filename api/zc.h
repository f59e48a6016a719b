/*
 * zc.h - the socket layer's side of zero-copy receive and send
 * (<shunt/zc.h>, api/zc.c): what a socket's life tells the views and
 * buffers it has out.
 */
#ifndef SHUNT_ZC_INTERNAL_H
#define SHUNT_ZC_INTERNAL_H

struct shunt_sock;
struct tcp_pcb;

/* The socket goes (after its protocol's close): views still held outlive
 * it, buffers never sent are freed. */
void shunt_zc_forget(struct shunt_sock *s);

/* A TCP socket closes: the bytes of its views still held count as read, so
 * the window is whole again and the close is not a reset. */
void shunt_zc_credit_held(struct shunt_sock *s);

/* The peer acknowledged more on the socket's connection: its zero-copy
 * buffers acknowledged are freed. */
void shunt_zc_acked(struct shunt_sock *s, struct tcp_pcb *pcb);

/* The socket let go of pcb (it may live on to send what it holds): its
 * zero-copy buffers are freed as they are acknowledged, the rest when
 * lwIP frees the pcb. */
void shunt_zc_detached(struct tcp_pcb *pcb);

#endif /* SHUNT_ZC_INTERNAL_H */
