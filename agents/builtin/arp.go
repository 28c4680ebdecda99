package builtin

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ARP header fields for Ethernet and IPv4 (RFC 826).
const (
	arpHWEthernet = 1
	arpOpRequest  = 1
	arpLen        = 28
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// arpAnnouncement builds a gratuitous ARP request for ip from mac: sender
// and target protocol address are both ip, the target hardware address is
// broadcast, as arping -U (and resource-agents' send_arp) sends it.
func arpAnnouncement(mac net.HardwareAddr, ip net.IP) []byte {
	b := make([]byte, arpLen)
	binary.BigEndian.PutUint16(b[0:], arpHWEthernet)
	binary.BigEndian.PutUint16(b[2:], unix.ETH_P_IP)
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:], arpOpRequest)
	copy(b[8:14], mac)
	copy(b[14:18], ip.To4())
	copy(b[18:24], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(b[24:28], ip.To4())
	return b
}

// sendGratuitousARP sends count ARP announcements of ip on link, interval
// apart, over an AF_PACKET datagram socket (the kernel adds the Ethernet
// header, to the broadcast address). It returns how many it sent; it stops
// early when ctx ends.
func sendGratuitousARP(ctx context.Context, link netlink.Link, ip net.IP, count int, interval time.Duration) (int, error) {
	attrs := link.Attrs()
	switch {
	case attrs.RawFlags&unix.IFF_NOARP != 0:
		return 0, errors.New("interface does not use ARP (NOARP)")
	case len(attrs.HardwareAddr) != 6:
		return 0, fmt.Errorf("interface has no Ethernet address (%q)", attrs.HardwareAddr.String())
	case attrs.Flags&net.FlagUp == 0:
		return 0, errors.New("interface is down")
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("AF_PACKET socket: %w", err)
	}
	defer unix.Close(fd)
	to := &unix.SockaddrLinklayer{
		Protocol: htons(unix.ETH_P_ARP),
		Ifindex:  attrs.Index,
		Halen:    6,
		Addr:     [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	}
	pkt := arpAnnouncement(attrs.HardwareAddr, ip)
	sent := 0
	for i := range count {
		if i > 0 {
			if err := sleepCtx(ctx, interval); err != nil {
				return sent, err
			}
		}
		if err := unix.Sendto(fd, pkt, 0, to); err != nil {
			return sent, fmt.Errorf("sendto: %w", err)
		}
		sent++
	}
	return sent, nil
}
