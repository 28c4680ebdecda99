// Package lab builds the reference setup in Linux network namespaces with
// real hanode processes on real sockets: node namespaces with eth0-eth3,
// switch namespaces with bridges for the private and public networks, a
// gateway and a client; kernel bonds where the kernel has the driver and a
// userspace active-backup bond where it has not; faults by nftables rules
// and link state. It runs only as root and is never imported by core code.
// The lab issue fills this package.
package lab
