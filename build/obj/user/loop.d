build/obj/user/loop.o: user/loop.c user/loop.h
user/loop.h:
