/* version - the one place the release number is written (postern --version). */
#ifndef POSTERN_VERSION_H
#define POSTERN_VERSION_H
#define POSTERN_VERSION	"0.10.0"
#endif
