export { startLab, type LabOptions, type LabHandle, type AttachedHostSpec, type LabProgress, type OvsLocation } from './start-lab.js';
export { planLab, composeAddressing, formatUdp, switchPortArg, type LabPlan, type AttachedHostPlan, type LabAddressing, type SwitchPlan, type SwitchPortPlan, type HostPlan, type ControllerPlan } from './lab-plan.js';
export { renderCompose } from './compose.js';
export { createLabService, pathOfTrace, type LabService, type LabServiceComponents, type LabPingResult, type LabPingReply, type LabHostAddress, type LabHostJson, type LabAttachResult } from './lab-service.js';
export { labRoutes } from './lab-routes.js';
export { readLabPlanHosts } from './lab-plan-file.js';
export { reportReady, acceptPeerCommands, requestAttachHost, type ReadyReport, type SetPeersCommand, type HostAttachSpec } from './child-channel.js';
export { writeLabPki, type LabPki, type LabPkiOptions, type TlsFiles } from './pki/lab-pki.js';
export { createCertificateAuthority, type CertificateAuthority, type IssuedCertificate, type SubjectOptions } from './pki/certificate.js';
