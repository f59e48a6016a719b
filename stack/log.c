/*
 * log.c - the "shunt" rte_log type, registered before main() runs so it
 * works before the EAL is up (configuration errors are reported then).
 */
#include "log.h"

RTE_LOG_REGISTER(shunt_logtype, shunt, INFO);
