/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_VERSION_H
#define WSPLICE_VERSION_H

#define WSPLICE_VERSION "0.1.0"

#endif
