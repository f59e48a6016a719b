# m4/shunt.m4 - Shunt's own configure checks.

# SHUNT_REQUIRE_PKG(VAR, MODULES, DEBIAN-PACKAGE)
# pkg-config check that stops configure with one line naming the package.
AC_DEFUN([SHUNT_REQUIRE_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found: install it with 'apt-get install $3' (or run scripts/setup)])])
])

# SHUNT_WITH_LWIP(VERSION)
# --with-lwip=DIR names lwIP's source tree; the default is where
# scripts/setup puts it.  Sets LWIP_DIR (absolute).
AC_DEFUN([SHUNT_WITH_LWIP], [
  AC_ARG_WITH([lwip],
    [AS_HELP_STRING([--with-lwip=DIR], [lwIP $1 source tree (default: SRCDIR/.lwip/lwip)])],
    [LWIP_DIR="$withval"], [LWIP_DIR="$srcdir/.lwip/lwip"])
  AC_MSG_CHECKING([for lwIP $1 sources])
  AS_IF([test -f "$LWIP_DIR/src/include/lwip/init.h"],
    [LWIP_DIR=`cd "$LWIP_DIR" && pwd`],
    [AC_MSG_RESULT([no])
     AC_MSG_ERROR([lwIP sources not found in $LWIP_DIR: run scripts/setup (it runs 'apt-get source lwip') or pass --with-lwip=DIR])])
  lwip_version=`sed -n 's/^#define LWIP_VERSION_\(MAJOR\|MINOR\|REVISION\) *\([[0-9]]*\).*/\2/p' "$LWIP_DIR/src/include/lwip/init.h" | paste -sd.`
  AS_IF([test "x$lwip_version" != "x$1"],
    [AC_MSG_RESULT([$lwip_version])
     AC_MSG_ERROR([$LWIP_DIR holds lwIP $lwip_version, Shunt needs $1: run scripts/setup or pass --with-lwip=DIR])])
  AC_MSG_RESULT([$LWIP_DIR])
  AC_SUBST([LWIP_DIR])
])
