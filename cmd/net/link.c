/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "link.h"
#include "macro.h"

bool link_exists(const char *name) {
        return if_nametoindex(name) > 0;
}

int link_delete(const char *name) {
        _cleanup_close_ int fd = -EBADF;
        struct {
                struct nlmsghdr nh;
                struct ifinfomsg ifi;
        } req = {
                .nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
                .nh.nlmsg_type = RTM_DELLINK,
                .nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
                .nh.nlmsg_seq = 1,
                .ifi.ifi_family = AF_UNSPEC,
        };
        char buf[4096];
        unsigned idx = if_nametoindex(name);

        if (idx == 0)
                return -ENODEV;
        req.ifi.ifi_index = (int) idx;
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
                return -errno;
        if (send(fd, &req, req.nh.nlmsg_len, 0) < 0)
                return -errno;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0)
                return -errno;
        struct nlmsghdr *h = (struct nlmsghdr *) buf;
        if (!NLMSG_OK(h, (size_t) n) || h->nlmsg_type != NLMSG_ERROR)
                return -EBADMSG;
        return ((struct nlmsgerr *) NLMSG_DATA(h))->error;
}

int link_loopback_up(void) {
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = {};
        if (fd < 0)
                return -errno;
        strcpy(ifr.ifr_name, "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return -errno;
        return 0;
}
