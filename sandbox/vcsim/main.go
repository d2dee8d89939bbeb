// vcsim for the vmimport.migrate sandbox: govmomi's vCenter simulator
// (simulator.VPX()) shaped by flags, with what the collection's tests need
// and the stock simulator lacks:
//
//   - standard portgroups with VLANs on a second vSwitch of every host,
//     distributed switches with VLAN, PVLAN (primary/secondary/type) and
//     trunk (VLAN ranges) portgroups, the uplink portgroup declared as such;
//   - a VMFS and an NFS datastore, VMs spread over hosts and folders,
//     templates, VMs powered on and off;
//   - what vCenter fills in and vcsim 0.24 does not: VirtualDisk.diskObjectId,
//     NIC PCI slots, runtime.maxCpuUsage of running VMs, guest OS full names;
//   - PropertyCollector paging: RetrievePropertiesEx honours
//     options.maxObjects and answers a token, ContinueRetrievePropertiesEx
//     and CancelRetrievePropertiesEx serve the rest;
//   - the vSphere Automation REST API of vcsim (/rest: tags and tag categories);
//   - an HTTP request counter (GET /_sandbox/stats, POST /_sandbox/stats/reset)
//     and a guest-info switch (POST /_sandbox/guest) for VMware Tools state
//     and guest IPs, which no vSphere API call can set.
//
// Built in GOPATH mode from Debian's golang-go and
// golang-github-vmware-govmomi-dev (govmomi 0.24); see sandbox/peers/vcsim.py.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	vapi "github.com/vmware/govmomi/vapi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type options struct {
	listen     string
	username   string
	password   string
	dc         int
	clusters   int
	hosts      int
	standalone int
	vms        int
	templates  int
	stdPG      int
	stdTrunk   bool
	dvs        int
	dvpg       int
	pvlan      int
	trunk      int
	offEvery   int
}

func parseFlags() *options {
	o := &options{}
	flag.StringVar(&o.listen, "l", "127.0.0.1:8989", "listen address (host:port)")
	flag.StringVar(&o.username, "username", "user", "login user name")
	password := os.Getenv("VMIMPORT_VCSIM_PASSWORD")
	if password == "" {
		password = "pass"
	}
	flag.StringVar(&o.password, "password", password, "login password (default: $VMIMPORT_VCSIM_PASSWORD, else \"pass\")")
	flag.IntVar(&o.dc, "dc", 1, "datacenters")
	flag.IntVar(&o.clusters, "cluster", 1, "clusters per datacenter")
	flag.IntVar(&o.hosts, "host", 2, "hosts per cluster")
	flag.IntVar(&o.standalone, "standalone-host", 1, "standalone hosts per datacenter")
	flag.IntVar(&o.vms, "vm", 2, "VMs per host")
	flag.IntVar(&o.templates, "template", 1, "templates per datacenter")
	flag.IntVar(&o.stdPG, "std-pg", 2, "standard portgroups (VLAN 100+i) on vSwitch1 of every host")
	flag.BoolVar(&o.stdTrunk, "std-trunk", true, "also a standard portgroup with VLAN 4095 (all VLANs)")
	flag.IntVar(&o.dvs, "dvs", 1, "distributed switches per datacenter")
	flag.IntVar(&o.dvpg, "pg", 2, "VLAN portgroups (VLAN 200+i) per distributed switch")
	flag.IntVar(&o.pvlan, "pvlan-pg", 3, "PVLAN portgroups on the first distributed switch (isolated, community, promiscuous, ...)")
	flag.IntVar(&o.trunk, "trunk-pg", 1, "trunk portgroups on the first distributed switch")
	flag.IntVar(&o.offEvery, "off-every", 4, "leave every Nth VM of a host powered off (0: all on)")
	flag.Parse()
	return o
}

// ---------------------------------------------------------------------------
// PropertyCollector with paging, as vCenter does it.

// PagingPropertyCollector answers at most options.maxObjects objects per call
// and keeps the rest behind a token. The simulator makes one instance per
// session with reflect.New, so the zero value must work.
type PagingPropertyCollector struct {
	simulator.PropertyCollector

	pageMu sync.Mutex
	pages  map[string]*pendingPage
	serial int
}

type pendingPage struct {
	objects []types.ObjectContent
	max     int
}

func (pc *PagingPropertyCollector) page(objects []types.ObjectContent, max int) *types.RetrieveResult {
	res := &types.RetrieveResult{Objects: objects}
	if max <= 0 || len(objects) <= max {
		return res
	}
	pc.pageMu.Lock()
	defer pc.pageMu.Unlock()
	if pc.pages == nil {
		pc.pages = make(map[string]*pendingPage)
	}
	pc.serial++
	token := fmt.Sprintf("page-%d", pc.serial)
	pc.pages[token] = &pendingPage{objects: objects[max:], max: max}
	res.Objects = objects[:max]
	res.Token = token
	return res
}

func (pc *PagingPropertyCollector) RetrievePropertiesEx(ctx *simulator.Context, r *types.RetrievePropertiesEx) soap.HasFault {
	out := pc.PropertyCollector.RetrievePropertiesEx(ctx, r)
	body, ok := out.(*methods.RetrievePropertiesExBody)
	if !ok || body.Res == nil || body.Res.Returnval == nil {
		return out
	}
	body.Res.Returnval = pc.page(body.Res.Returnval.Objects, int(r.Options.MaxObjects))
	return body
}

func (pc *PagingPropertyCollector) ContinueRetrievePropertiesEx(r *types.ContinueRetrievePropertiesEx) soap.HasFault {
	body := &methods.ContinueRetrievePropertiesExBody{}
	pc.pageMu.Lock()
	p, ok := pc.pages[r.Token]
	delete(pc.pages, r.Token)
	pc.pageMu.Unlock()
	if !ok {
		body.Fault_ = simulator.Fault("unknown or expired token", &types.InvalidArgument{InvalidProperty: "token"})
		return body
	}
	body.Res = &types.ContinueRetrievePropertiesExResponse{Returnval: *pc.page(p.objects, p.max)}
	return body
}

func (pc *PagingPropertyCollector) CancelRetrievePropertiesEx(r *types.CancelRetrievePropertiesEx) soap.HasFault {
	pc.pageMu.Lock()
	delete(pc.pages, r.Token)
	pc.pageMu.Unlock()
	return &methods.CancelRetrievePropertiesExBody{Res: &types.CancelRetrievePropertiesExResponse{}}
}

// ---------------------------------------------------------------------------
// What vCenter fills in and the simulator does not.

var pciSlots = []int32{160, 192, 224, 256, 1184, 1216, 1248, 1280, 2208, 2240}

type vcenterFill struct{ self types.ManagedObjectReference }

func (h *vcenterFill) Reference() types.ManagedObjectReference { return h.self }
func (h *vcenterFill) PutObject(mo.Reference)                   {}
func (h *vcenterFill) RemoveObject(types.ManagedObjectReference) {}

func (h *vcenterFill) UpdateObject(obj mo.Reference, changes []types.PropertyChange) {
	vm, ok := obj.(*mo.VirtualMachine)
	if !ok || vm.Config == nil {
		return
	}
	for _, c := range changes {
		switch c.Name {
		case "config.hardware.device":
			fillDevices(vm)
		case "runtime.powerState":
			fillCPU(vm)
		}
	}
}

var vsphereLabel = regexp.MustCompile(`^(Hard disk|Network adapter|CD/DVD drive) ([0-9]+)$`)

// relabel gives devices the labels vCenter gives them ("Hard disk 1",
// "Network adapter 2", "SCSI controller 0"); vcsim uses "disk-202-0" and such.
func relabel(devices []types.BaseVirtualDevice) {
	used := map[string]map[int]bool{}
	for _, d := range devices {
		if info := d.GetVirtualDevice().DeviceInfo; info != nil {
			if m := vsphereLabel.FindStringSubmatch(info.GetDescription().Label); m != nil {
				if used[m[1]] == nil {
					used[m[1]] = map[int]bool{}
				}
				n, _ := strconv.Atoi(m[2])
				used[m[1]][n] = true
			}
		}
	}
	next := func(kind string) string {
		if used[kind] == nil {
			used[kind] = map[int]bool{}
		}
		for n := 1; ; n++ {
			if !used[kind][n] {
				used[kind][n] = true
				return fmt.Sprintf("%s %d", kind, n)
			}
		}
	}
	for _, d := range devices {
		base := d.GetVirtualDevice()
		label := ""
		if base.DeviceInfo != nil {
			label = base.DeviceInfo.GetDescription().Label
		}
		want := ""
		switch dev := d.(type) {
		case *types.VirtualDisk:
			if !strings.HasPrefix(label, "Hard disk ") {
				want = next("Hard disk")
			}
		case *types.VirtualCdrom:
			if !strings.HasPrefix(label, "CD/DVD drive ") {
				want = next("CD/DVD drive")
			}
		case types.BaseVirtualEthernetCard:
			if !strings.HasPrefix(label, "Network adapter ") {
				want = next("Network adapter")
			}
		case types.BaseVirtualSCSIController:
			want = fmt.Sprintf("SCSI controller %d", dev.GetVirtualSCSIController().BusNumber)
		case *types.VirtualAHCIController:
			want = fmt.Sprintf("SATA controller %d", dev.BusNumber)
		case *types.VirtualNVMEController:
			want = fmt.Sprintf("NVME controller %d", dev.BusNumber)
		}
		if want != "" && want != label {
			if base.DeviceInfo == nil {
				base.DeviceInfo = &types.Description{}
			}
			base.DeviceInfo.GetDescription().Label = want
		}
	}
}

func fillDevices(vm *mo.VirtualMachine) {
	id := strings.TrimPrefix(vm.Self.Value, "vm-")
	nic := 0
	relabel(vm.Config.Hardware.Device)
	for _, d := range vm.Config.Hardware.Device {
		switch dev := d.(type) {
		case *types.VirtualDisk:
			if dev.DiskObjectId == "" {
				dev.DiskObjectId = fmt.Sprintf("%s-%d", id, dev.Key)
			}
		case types.BaseVirtualEthernetCard:
			card := dev.GetVirtualEthernetCard()
			if card.SlotInfo == nil && nic < len(pciSlots) {
				card.SlotInfo = &types.VirtualDevicePciBusSlotInfo{PciSlotNumber: pciSlots[nic]}
			}
			nic++
		}
	}
	if vm.Config.CpuAllocation != nil && vm.Config.CpuAllocation.Reservation != nil {
		vm.Summary.Config.CpuReservation = int32(*vm.Config.CpuAllocation.Reservation)
	}
	if vm.Config.MemoryAllocation != nil && vm.Config.MemoryAllocation.Reservation != nil {
		vm.Summary.Config.MemoryReservation = int32(*vm.Config.MemoryAllocation.Reservation)
	}
}

func fillCPU(vm *mo.VirtualMachine) {
	var max int32
	if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn && vm.Runtime.Host != nil {
		if h, ok := simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem); ok && h.Summary.Hardware != nil {
			max = h.Summary.Hardware.CpuMhz * vm.Config.Hardware.NumCPU
		}
	}
	vm.Runtime.MaxCpuUsage = max
	vm.Summary.Runtime.MaxCpuUsage = max
}

// ---------------------------------------------------------------------------
// Inventory.

type guestOS struct{ id, name string }

var guests = []guestOS{
	{"centos7_64Guest", "CentOS 7 (64-bit)"},
	{"rhel7_64Guest", "Red Hat Enterprise Linux 7 (64-bit)"},
	{"ubuntu64Guest", "Ubuntu Linux (64-bit)"},
	{"windows9Server64Guest", "Microsoft Windows Server 2016 or later (64-bit)"},
	{"debian10_64Guest", "Debian GNU/Linux 10 (64-bit)"},
	{"otherLinux64Guest", "Other Linux (64-bit)"},
}

type builder struct {
	ctx    context.Context
	c      *vim25.Client
	o      *options
	tmp    string
	nVM    int
	nTpl   int
	nNet   int
	nDS    int

}

func must(err error, what string) {
	if err != nil {
		log.Fatalf("vcsim: %s: %s", what, err)
	}
}

func dcOf(ref types.ManagedObjectReference) *simulator.Datacenter {
	for {
		obj := simulator.Map.Get(ref)
		if obj == nil {
			return nil
		}
		if dc, ok := obj.(*simulator.Datacenter); ok {
			return dc
		}
		e, ok := obj.(mo.Entity)
		if !ok || e.Entity().Parent == nil {
			return nil
		}
		ref = *e.Entity().Parent
	}
}

// hostsOf lists the datacenter's hosts: cluster hosts first, then standalone, by name.
func hostsOf(dc *simulator.Datacenter) []*simulator.HostSystem {
	var clustered, standalone []*simulator.HostSystem
	for _, e := range simulator.Map.All("HostSystem") {
		h := e.(*simulator.HostSystem)
		if d := dcOf(h.Self); d == nil || d.Self != dc.Self {
			continue
		}
		if h.Parent.Type == "ClusterComputeResource" {
			clustered = append(clustered, h)
		} else {
			standalone = append(standalone, h)
		}
	}
	byName := func(l []*simulator.HostSystem) {
		sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	}
	byName(clustered)
	byName(standalone)
	return append(clustered, standalone...)
}

func poolOf(h *simulator.HostSystem) *object.ResourcePool {
	parent := simulator.Map.Get(*h.Parent)
	switch cr := parent.(type) {
	case *simulator.ClusterComputeResource:
		return object.NewResourcePool(nil, *cr.ResourcePool)
	case *mo.ComputeResource:
		return object.NewResourcePool(nil, *cr.ResourcePool)
	}
	log.Fatalf("vcsim: no resource pool for host %s", h.Name)
	return nil
}

func (b *builder) datastores(dc *simulator.Datacenter, hosts []*simulator.HostSystem) (types.ManagedObjectReference, types.ManagedObjectReference) {
	var vmfs types.ManagedObjectReference
	for _, e := range simulator.Map.All("Datastore") {
		ds := e.(*simulator.Datastore)
		if d := dcOf(ds.Self); d == nil || d.Self != dc.Self || ds.Name != "LocalDS_0" {
			continue
		}
		// present the local datastore as VMFS, as a real ESXi local disk is
		info := ds.Info.GetDatastoreInfo()
		ds.Info = &types.VmfsDatastoreInfo{
			DatastoreInfo: *info,
			MaxPhysicalRDMFileSize: 62 << 40,
			Vmfs: &types.HostVmfsVolume{
				HostFileSystemVolume: types.HostFileSystemVolume{Type: "VMFS", Name: ds.Name, Capacity: ds.Summary.Capacity},
				BlockSizeMb:          1,
				MajorVersion:         6,
				Version:              "6.82",
				Uuid:                 fmt.Sprintf("5f0c3a2e-%08x-0000-000c29000000", b.nDS),
				Local:                types.NewBool(true),
			},
		}
		ds.Summary.Type = "VMFS"
		vmfs = ds.Self
		b.nDS++
	}
	// an NFS datastore mounted on every host of the datacenter
	name := fmt.Sprintf("%s_NFS0", dc.Name)
	local := filepath.Join(b.tmp, name)
	must(os.MkdirAll(local, 0o755), "NFS datastore directory")
	var nfs types.ManagedObjectReference
	for _, h := range hosts {
		dss := object.NewHostDatastoreSystem(b.c, *h.ConfigManager.DatastoreSystem)
		ds, err := dss.CreateNasDatastore(b.ctx, types.HostNasVolumeSpec{
			RemoteHost: "192.0.2.10",
			RemotePath: "/export/" + strings.ToLower(dc.Name),
			LocalPath:  local,
			AccessMode: string(types.HostMountModeReadWrite),
			Type:       "NFS",
		})
		must(err, "create NFS datastore")
		nfs = ds.Reference()
	}
	return vmfs, nfs
}

// standardPortgroups adds vSwitch1 with VLAN portgroups to every host; the
// first host creates the Network objects, the others are wired to them.
func (b *builder) standardPortgroups(dc *simulator.Datacenter, hosts []*simulator.HostSystem) []string {
	type pg struct {
		name string
		vlan int32
	}
	var pgs []pg
	for i := 0; i < b.o.stdPG; i++ {
		pgs = append(pgs, pg{fmt.Sprintf("%s_VLAN%d", dc.Name, 100+i), int32(100 + i)})
	}
	if b.o.stdTrunk {
		pgs = append(pgs, pg{fmt.Sprintf("%s_ALLVLANS", dc.Name), 4095})
	}
	if len(pgs) == 0 || len(hosts) == 0 {
		return nil
	}
	first := object.NewHostNetworkSystem(b.c, *hosts[0].ConfigManager.NetworkSystem)
	must(first.AddVirtualSwitch(b.ctx, "vSwitch1", &types.HostVirtualSwitchSpec{NumPorts: 128}), "add vSwitch1")
	var names []string
	for _, p := range pgs {
		must(first.AddPortGroup(b.ctx, types.HostPortGroupSpec{Name: p.name, VlanId: p.vlan, VswitchName: "vSwitch1"}), "add portgroup "+p.name)
		names = append(names, p.name)
	}
	folder := simulator.Map.Get(dc.NetworkFolder).(*simulator.Folder)
	var nets []types.ManagedObjectReference
	for _, p := range pgs {
		nets = append(nets, simulator.Map.FindByName(p.name, folder.ChildEntity).Reference())
	}
	var hostRefs []types.ManagedObjectReference
	for _, h := range hosts {
		hostRefs = append(hostRefs, h.Self)
		vs := types.HostVirtualSwitch{
			Name: "vSwitch1", Key: "key-vim.host.VirtualSwitch-vSwitch1", NumPorts: 128, Mtu: 1500,
			Pnic: []string{"key-vim.host.PhysicalNic-vmnic1"},
			Spec: types.HostVirtualSwitchSpec{NumPorts: 128},
		}
		for _, p := range pgs {
			key := "key-vim.host.PortGroup-" + p.name
			vs.Portgroup = append(vs.Portgroup, key)
			h.Config.Network.Portgroup = append(h.Config.Network.Portgroup, types.HostPortGroup{
				Key:     key,
				Vswitch: vs.Key,
				Spec:    types.HostPortGroupSpec{Name: p.name, VlanId: p.vlan, VswitchName: "vSwitch1"},
			})
		}
		h.Config.Network.Vswitch = append(h.Config.Network.Vswitch, vs)
		h.Network = append(h.Network, nets...)
		switch cr := simulator.Map.Get(*h.Parent).(type) {
		case *simulator.ClusterComputeResource:
			cr.Network = appendMissing(cr.Network, nets...)
		case *mo.ComputeResource:
			cr.Network = appendMissing(cr.Network, nets...)
		}
	}
	for _, ref := range nets {
		n := simulator.Map.Get(ref).(*mo.Network)
		n.Host = hostRefs
		n.Summary = &types.NetworkSummary{Network: &n.Self, Name: n.Name, Accessible: true}
	}
	b.nNet += len(pgs)
	return names
}

func appendMissing(l []types.ManagedObjectReference, refs ...types.ManagedObjectReference) []types.ManagedObjectReference {
	for _, r := range refs {
		found := false
		for _, x := range l {
			if x == r {
				found = true
				break
			}
		}
		if !found {
			l = append(l, r)
		}
	}
	return l
}

func teaming() *types.VmwareUplinkPortTeamingPolicy {
	return &types.VmwareUplinkPortTeamingPolicy{
		Policy:         &types.StringPolicy{Value: "loadbalance_srcid"},
		ReversePolicy:  &types.BoolPolicy{Value: types.NewBool(true)},
		NotifySwitches: &types.BoolPolicy{Value: types.NewBool(true)},
		RollingOrder:   &types.BoolPolicy{Value: types.NewBool(false)},
	}
}

// distributedSwitches creates the switches with their VLAN, PVLAN and trunk
// portgroups and returns the VM-facing portgroups (VLAN ones first).
func (b *builder) distributedSwitches(dc *simulator.Datacenter, hosts []*simulator.HostSystem) (vlan, special []types.ManagedObjectReference) {
	netFolder := object.NewFolder(b.c, dc.NetworkFolder)
	pvlanTypes := []string{"isolated", "community", "promiscuous"}
	n := 0
	for k := 0; k < b.o.dvs; k++ {
		var spec types.DVSCreateSpec
		cfg := &types.VMwareDVSConfigSpec{}
		cfg.Name = fmt.Sprintf("%s_DVS%d", dc.Name, k)
		spec.ConfigSpec = cfg
		task, err := netFolder.CreateDVS(b.ctx, spec)
		must(err, "create DVS")
		info, err := task.WaitForResult(b.ctx, nil)
		must(err, "create DVS")
		ref := info.Result.(types.ManagedObjectReference)
		dvs := object.NewDistributedVirtualSwitch(b.c, ref)
		members := &types.DVSConfigSpec{}
		for _, h := range hosts {
			members.Host = append(members.Host, types.DistributedVirtualSwitchHostMemberConfigSpec{
				Operation: string(types.ConfigSpecOperationAdd), Host: h.Self,
			})
		}
		task, err = dvs.Reconfigure(b.ctx, members)
		must(err, "add hosts to DVS")
		must(task.Wait(b.ctx), "add hosts to DVS")

		var specs []types.DVPortgroupConfigSpec
		add := func(name string, v types.BaseVmwareDistributedVirtualSwitchVlanSpec) {
			specs = append(specs, types.DVPortgroupConfigSpec{
				Name:     name,
				Type:     string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding),
				NumPorts: 8,
				DefaultPortConfig: &types.VMwareDVSPortSetting{
					Vlan:                v,
					UplinkTeamingPolicy: teaming(),
				},
			})
		}
		for j := 0; j < b.o.dvpg; j++ {
			add(fmt.Sprintf("%s_DVPG%d", dc.Name, n), &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: int32(200 + n)})
			n++
		}
		var pvlanMap []types.VMwareDVSPvlanMapEntry
		if k == 0 {
			if b.o.pvlan > 0 {
				pvlanMap = append(pvlanMap, types.VMwareDVSPvlanMapEntry{PrimaryVlanId: 300, SecondaryVlanId: 300, PvlanType: "promiscuous"})
			}
			for j := 0; j < b.o.pvlan; j++ {
				kind := pvlanTypes[j%len(pvlanTypes)]
				secondary := int32(300)
				if kind != "promiscuous" {
					secondary = int32(301 + j)
					pvlanMap = append(pvlanMap, types.VMwareDVSPvlanMapEntry{PrimaryVlanId: 300, SecondaryVlanId: secondary, PvlanType: kind})
				}
				name := fmt.Sprintf("%s_PVLAN_%s", dc.Name, kind)
				if j >= len(pvlanTypes) {
					name = fmt.Sprintf("%s%d", name, j/len(pvlanTypes))
				}
				add(name, &types.VmwareDistributedVirtualSwitchPvlanSpec{PvlanId: secondary})
			}
			for j := 0; j < b.o.trunk; j++ {
				add(fmt.Sprintf("%s_TRUNK%d", dc.Name, j), &types.VmwareDistributedVirtualSwitchTrunkVlanSpec{
					VlanId: []types.NumericRange{{Start: int32(400 + 20*j), End: int32(409 + 20*j)}, {Start: int32(4000 + j), End: int32(4000 + j)}},
				})
			}
		}
		if len(specs) > 0 {
			task, err = dvs.AddPortgroup(b.ctx, specs)
			must(err, "add DVS portgroups")
			must(task.Wait(b.ctx), "add DVS portgroups")
		}
		sw := simulator.Map.Get(ref).(*simulator.DistributedVirtualSwitch)
		cfgInfo := sw.Config.(*types.VMwareDVSConfigInfo)
		cfgInfo.PvlanConfig = pvlanMap
		cfgInfo.MaxPorts = 8192
		for _, pgRef := range sw.Portgroup {
			pg := simulator.Map.Get(pgRef).(*simulator.DistributedVirtualPortgroup)
			if strings.Contains(pg.Name, "-DVUplinks") {
				cfgInfo.UplinkPortgroup = append(cfgInfo.UplinkPortgroup, pgRef)
				pg.Tag = append(pg.Tag, types.Tag{Key: "SYSTEM/DVS.UPLINKPG"})
				continue
			}
			switch pg.Config.DefaultPortConfig.(*types.VMwareDVSPortSetting).Vlan.(type) {
			case *types.VmwareDistributedVirtualSwitchVlanIdSpec:
				vlan = append(vlan, pgRef)
			default:
				special = append(special, pgRef)
			}
		}
		b.nNet += len(specs)
	}
	return vlan, special
}

func (b *builder) folders(dc *simulator.Datacenter) []*object.Folder {
	root := object.NewFolder(b.c, dc.VmFolder)
	apps, err := root.CreateFolder(b.ctx, "Apps")
	must(err, "create folder Apps")
	web, err := apps.CreateFolder(b.ctx, "Web")
	must(err, "create folder Web")
	return []*object.Folder{root, apps, web}
}

func (b *builder) backing(ref types.ManagedObjectReference) types.BaseVirtualDeviceBackingInfo {
	if ref.Type == "DistributedVirtualPortgroup" {
		backing, err := object.NewDistributedVirtualPortgroup(b.c, ref).EthernetCardBackingInfo(b.ctx)
		must(err, "DVPG backing")
		return backing
	}
	n := simulator.Map.Get(ref).(mo.Entity)
	return &types.VirtualEthernetCardNetworkBackingInfo{
		VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: n.Entity().Name},
		Network:                        &ref,
	}
}

func (b *builder) createVM(folder *object.Folder, h *simulator.HostSystem, name string, i int, net types.ManagedObjectReference, ds string) *object.VirtualMachine {
	g := guests[i%len(guests)]
	ncpu := int32(1 + i%4)
	cores := ncpu
	if ncpu == 4 {
		cores = 2
	}
	config := types.VirtualMachineConfigSpec{
		Name:              name,
		GuestId:           g.id,
		NumCPUs:           ncpu,
		NumCoresPerSocket: cores,
		MemoryMB:          int64(1024 * (1 + i%4)),
		Files:             &types.VirtualMachineFileInfo{VmPathName: "[" + ds + "]"},
	}
	if i%5 == 0 {
		config.CpuAllocation = &types.ResourceAllocationInfo{Reservation: types.NewInt64(1000)}
	}
	var devices object.VirtualDeviceList
	// device keys follow vSphere's numbering: SCSI controllers 1000+bus,
	// SCSI disks 2000+16*bus+unit, CD/DVD 3000+, NICs 4000+
	scsi, _ := devices.CreateSCSIController("pvscsi")
	scsi.GetVirtualDevice().Key = 1000
	devices = append(devices, scsi)
	// the simulator gives every new VM IDE 0 (key 200) and IDE 1 (key 201)
	cdrom := &types.VirtualCdrom{VirtualDevice: types.VirtualDevice{
		Key:           3000,
		ControllerKey: 200,
		UnitNumber:    types.NewInt32(0),
		Backing:       &types.VirtualCdromRemotePassthroughBackingInfo{VirtualDeviceRemoteDeviceBackingInfo: types.VirtualDeviceRemoteDeviceBackingInfo{DeviceName: ""}},
		Connectable:   &types.VirtualDeviceConnectInfo{AllowGuestControl: true},
	}}
	disk := devices.CreateDisk(scsi.(types.BaseVirtualController), types.ManagedObjectReference{},
		fmt.Sprintf("[%s] %s/%s.vmdk", ds, name, name))
	disk.Key = 2000
	disk.CapacityInKB = int64(16+8*(i%4)) * 1024 * 1024
	nic, err := devices.CreateEthernetCard("vmxnet3", b.backing(net))
	must(err, "ethernet card")
	nic.GetVirtualDevice().Key = 4000
	devices = append(devices, cdrom, disk, nic)
	config.DeviceChange, _ = devices.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd)

	task, err := folder.CreateVM(b.ctx, config, poolOf(h), object.NewHostSystem(b.c, h.Self))
	must(err, "create VM "+name)
	info, err := task.WaitForResult(b.ctx, nil)
	must(err, "create VM "+name)
	ref := info.Result.(types.ManagedObjectReference)
	vm := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	vm.Config.GuestFullName = g.name
	vm.Summary.Config.GuestFullName = g.name
	return object.NewVirtualMachine(b.c, ref)
}

func (b *builder) build() {
	for _, e := range simulator.Map.All("Datacenter") {
		dc := e.(*simulator.Datacenter)
		hosts := hostsOf(dc)
		_, _ = b.datastores(dc, hosts)
		std := b.standardPortgroups(dc, hosts)
		vlanPGs, _ := b.distributedSwitches(dc, hosts)
		folders := b.folders(dc)

		var nets []types.ManagedObjectReference
		netFolder := simulator.Map.Get(dc.NetworkFolder).(*simulator.Folder)
		for _, name := range std {
			if strings.HasSuffix(name, "_ALLVLANS") {
				continue
			}
			nets = append(nets, simulator.Map.FindByName(name, netFolder.ChildEntity).Reference())
		}
		nets = append(nets, vlanPGs...)
		if len(nets) == 0 {
			nets = append(nets, simulator.Map.FindByName("VM Network", netFolder.ChildEntity).Reference())
		}

		for _, h := range hosts {
			for i := 0; i < b.o.vms; i++ {
				name := fmt.Sprintf("%s_VM%d", h.Name, i)
				net := nets[(b.nVM+i)%len(nets)]
				vm := b.createVM(folders[i%len(folders)], h, name, i, net, "LocalDS_0")
				if b.o.offEvery == 0 || i%b.o.offEvery != b.o.offEvery-1 {
					task, err := vm.PowerOn(b.ctx)
					must(err, "power on "+name)
					must(task.Wait(b.ctx), "power on "+name)
				}
			}
			b.nVM += b.o.vms
		}
		for t := 0; t < b.o.templates && len(hosts) > 0; t++ {
			name := fmt.Sprintf("%s_TPL%d", dc.Name, t)
			vm := b.createVM(folders[0], hosts[0], name, t, nets[0], "LocalDS_0")
			must(vm.MarkAsTemplate(b.ctx), "mark "+name+" as template")
			b.nTpl++
		}
	}
}

// ---------------------------------------------------------------------------
// HTTP: request counter, admin endpoints.

// REST paths carry object ids (/tag/id:urn:vmomi:...): counted as one method
var restID = regexp.MustCompile(`/id:[^/]*`)

var soapMethod = regexp.MustCompile(`<(?:[A-Za-z0-9_]+:)?Body[^>]*>\s*<(?:[A-Za-z0-9_]+:)?([A-Za-z0-9_]+)`)

type counter struct {
	mu       sync.Mutex
	requests int
	methods  map[string]int
	next     http.Handler
}

func (c *counter) snapshot() map[string]interface{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	methods := make(map[string]int, len(c.methods))
	for k, v := range c.methods {
		methods[k] = v
	}
	return map[string]interface{}{"requests": c.requests, "methods": methods}
}

func writeJSON(w http.ResponseWriter, code int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sandbox/") {
		c.admin(w, r)
		return
	}
	method := r.Method + " " + restID.ReplaceAllString(r.URL.Path, "/id:*")
	if r.Method == http.MethodPost && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err == nil {
			if m := soapMethod.FindSubmatch(body); m != nil {
				method = string(m[1])
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	c.mu.Lock()
	c.requests++
	c.methods[method]++
	c.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			recovered(w, method, p)
		}
	}()
	c.next.ServeHTTP(w, r)
}

const soapEnvelope = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>%s</soapenv:Body></soapenv:Envelope>`

// recovered answers for a simulator panic. vcsim 0.24 panics on Fetch of a
// property that is unset (a template's resourcePool, for example), where
// vCenter answers an empty FetchResponse: answer that, and a SOAP fault for
// anything else, rather than dropping the connection.
func recovered(w http.ResponseWriter, method string, p interface{}) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	if method == "Fetch" {
		fmt.Fprintf(w, soapEnvelope, `<FetchResponse xmlns="urn:vim25"></FetchResponse>`)
		return
	}
	log.Printf("vcsim: panic in %s: %v", method, p)
	w.WriteHeader(http.StatusInternalServerError)
	msg := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(fmt.Sprint(p))
	fmt.Fprintf(w, soapEnvelope, `<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>simulator error in `+
		method+`: `+msg+`</faultstring></soapenv:Fault>`)
}

type guestRequest struct {
	VM                 string     `json:"vm"`
	ToolsStatus        string     `json:"toolsStatus"`
	ToolsRunningStatus string     `json:"toolsRunningStatus"`
	HostName           string     `json:"hostName"`
	IPs                [][]string `json:"ips"`
}

func (c *counter) admin(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_sandbox/stats" && r.Method == http.MethodGet:
		writeJSON(w, 200, c.snapshot())
	case r.URL.Path == "/_sandbox/stats/reset" && r.Method == http.MethodPost:
		before := c.snapshot()
		c.mu.Lock()
		c.requests = 0
		c.methods = make(map[string]int)
		c.mu.Unlock()
		writeJSON(w, 200, before)
	case r.URL.Path == "/_sandbox/guest" && r.Method == http.MethodPost:
		var req guestRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, 400, map[string]string{"error": "bad JSON: " + err.Error()})
			return
		}
		if err := setGuest(req); err != nil {
			writeJSON(w, 404, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, 200, map[string]string{"vm": req.VM})
	default:
		writeJSON(w, 404, map[string]string{"error": "unknown admin path " + r.Method + " " + r.URL.Path})
	}
}

// setGuest sets what VMware Tools would report for a VM: tools status and
// the IP addresses of each NIC (in device order).
func setGuest(req guestRequest) error {
	var vm *simulator.VirtualMachine
	for _, e := range simulator.Map.All("VirtualMachine") {
		if e.Entity().Name == req.VM {
			vm = e.(*simulator.VirtualMachine)
			break
		}
	}
	if vm == nil {
		return fmt.Errorf("no VM named %q", req.VM)
	}
	simulator.Map.WithLock(vm, func() {
		if req.ToolsStatus != "" {
			vm.Guest.ToolsStatus = types.VirtualMachineToolsStatus(req.ToolsStatus)
			vm.Summary.Guest.ToolsStatus = vm.Guest.ToolsStatus
		}
		if req.ToolsRunningStatus != "" {
			vm.Guest.ToolsRunningStatus = req.ToolsRunningStatus
			vm.Summary.Guest.ToolsRunningStatus = req.ToolsRunningStatus
		}
		if vm.Guest.ToolsStatus == types.VirtualMachineToolsStatusToolsOk {
			vm.Guest.GuestId = vm.Config.GuestId
			vm.Guest.GuestFullName = vm.Config.GuestFullName
			vm.Summary.Guest.GuestId = vm.Config.GuestId
			vm.Summary.Guest.GuestFullName = vm.Config.GuestFullName
		}
		if req.HostName != "" {
			vm.Guest.HostName = req.HostName
			vm.Summary.Guest.HostName = req.HostName
		}
		for i, ips := range req.IPs {
			if i >= len(vm.Guest.Net) {
				break
			}
			vm.Guest.Net[i].IpAddress = ips
			if i == 0 && len(ips) > 0 {
				vm.Guest.IpAddress = ips[0]
				vm.Summary.Guest.IpAddress = ips[0]
			}
		}
	})
	return nil
}

func selfSigned() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err, "TLS key")
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "vcsim.vmimport.sandbox", Organization: []string{"vmimport.migrate sandbox"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	must(err, "TLS certificate")
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func main() {
	log.SetFlags(log.LstdFlags)
	o := parseFlags()
	started := time.Now()

	ln, err := net.Listen("tcp", o.listen)
	must(err, "listen on "+o.listen)
	addr := ln.Addr().String()

	// every file of the simulator (datastore directories, disks) lives under one directory,
	// removed at exit
	tmp, err := os.MkdirTemp("", "vmimport-vcsim-")
	must(err, "temp dir")
	must(os.Setenv("TMPDIR", tmp), "TMPDIR")

	m := simulator.VPX()
	m.Datacenter = o.dc
	m.Cluster = o.clusters
	m.ClusterHost = o.hosts
	m.Host = o.standalone
	m.Machine = 0
	m.Portgroup = 0
	m.Datastore = 1
	must(m.Create(), "create model")

	// vCenter behaviour the simulator lacks, before any VM exists
	simulator.Map.AddHandler(&vcenterFill{self: types.ManagedObjectReference{Type: "SandboxHook", Value: "vcenter-fill"}})

	ctx := context.Background()
	c, err := vim25.NewClient(ctx, m.Service)
	must(err, "in-process client")
	pc := &PagingPropertyCollector{}
	pc.Self = c.ServiceContent.PropertyCollector
	simulator.Map.Put(pc)

	b := &builder{ctx: ctx, c: c, o: o, tmp: tmp}
	b.build()

	s := m.Service
	s.Listen = &url.URL{Scheme: "https", Host: addr, Path: "/sdk", User: url.UserPassword(o.username, o.password)}
	s.RegisterSDK(simulator.Map)
	mux := s.ServeMux
	mux.HandleFunc(simulator.Map.Path+"/vimServiceVersions.xml", s.ServiceVersions)
	mux.HandleFunc("/folder/", s.ServeDatastore)
	mux.HandleFunc("/guestFile/", simulator.ServeGuest)
	mux.HandleFunc("/nfc/", simulator.ServeNFC)
	mux.HandleFunc("/about", s.About)
	// the vSphere Automation REST API (/rest: sessions, tag categories, tags, tag associations)
	restPath, restHandler := vapi.New(s.Listen, simulator.Map.OptionManager().Setting)
	mux.Handle(restPath, restHandler)
	simulator.Map.SessionManager().ServiceHostName = addr

	cert := selfSigned()
	simulator.Map.SessionManager().TLSCert = func() string { return "" }
	srv := &http.Server{
		Handler:           &counter{methods: make(map[string]int), next: mux},
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 30 * time.Second,
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		_ = srv.Close()
	}()

	fmt.Printf("vcsim: ready on https://%s/sdk datacenters=%d hosts=%d vms=%d templates=%d networks=%d (%.1fs)\n",
		addr, o.dc, o.dc*(o.clusters*o.hosts+o.standalone), b.nVM, b.nTpl, b.nNet, time.Since(started).Seconds())
	err = srv.ServeTLS(ln, "", "")
	_ = os.RemoveAll(tmp)
	if err != nil && err != http.ErrServerClosed {
		log.Fatalf("vcsim: %s", err)
	}
}
