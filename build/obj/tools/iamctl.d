build/obj/tools/iamctl.o: tools/iamctl.c tools/iamctl.h user/log.h
tools/iamctl.h:
user/log.h:
