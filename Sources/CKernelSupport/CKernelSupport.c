// Header-only support module; this file exists so SwiftPM builds the target.
#include "CKernelSupport.h"
