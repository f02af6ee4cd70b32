/*! \file ws_catalog.h
 * The operations of each GSMA ES web service, as declared in the GSMA WSDL set (shared/spec/gsma-esim-messaging-3,
 * one table per wsdl:service, terminated by an entry with name NULL), for ws_service_alloc():
 *  - an operation with input and output is WS_MEP_SYNC (Actions …/<Fn>Request and …/<Fn>Response);
 *  - an input-only operation named …Notification or …Callback is WS_MEP_ONEWAY (a notification, or the
 *    callback of an asynchronous call received by the requester);
 *  - any other input-only operation is WS_MEP_ASYNC; its callback Action is the input Action with the category
 *    suffixed "CallBack" (digest §6.3: explicit in the ES3 and ES7 callback WSDLs; for ES2 and ES4, whose GSMA
 *    WSDLs have no callback service, the same pattern is assumed [INF]).
 * Canonical Actions are the WSDL's, typos included (ES3 "ProfileDownloadedCompleted"), so that clients generated
 * from the GSMA WSDL work unchanged; ws_service_find_op() also accepts the function name spelt right.
 * One fix: ES7_SMSR_Provider.wsdl names the AuthenticateSMSR input element "ES7-AuthenticateSMSRequest", which
 * the XSD does not define; the table uses ES7-AuthenticateSMSRRequest.
 */
#pragma once

#include <sgp02/ws/soap.h>

/*! SM-SR, ES1 (EUM -> SM-SR): RegisterEIS (synchronous) */
extern const struct ws_op ws_ops_ES1SmSrService[];
/*! SM-DP, ES2 (MNO -> SM-DP): DownloadProfile, Enable/Disable/DeleteProfile asynchronous; GetEIS,
 *  UpdatePolicyRules, UpdateSubscriptionAddress synchronous */
extern const struct ws_op ws_ops_ES2SmDpService[];
/*! SM-DP side of ES3 (SM-SR -> SM-DP): ES3 callbacks and Handle*Notification, all one-way */
extern const struct ws_op ws_ops_ES3SmDpService[];
/*! SM-SR, ES3 (SM-DP -> SM-SR): all synchronous in the GSMA WSDL */
extern const struct ws_op ws_ops_ES3SmSrService[];
/*! SM-SR, ES4 (MNO -> SM-SR): GetEIS, UpdatePolicyRules, UpdateSubscriptionAddress synchronous; the others
 *  asynchronous */
extern const struct ws_op ws_ops_ES4SmSrService[];
/*! SM-SR, ES7 (SM-SR -> SM-SR) synchronous flavour (ES7_SMSR.wsdl) and HandleSMSRChangeNotification */
extern const struct ws_op ws_ops_ES7SmSrService[];
/*! SM-SR, ES7 asynchronous provider (ES7_SMSR_Provider.wsdl) */
extern const struct ws_op ws_ops_ES7SmSrProviderService[];
/*! SM-SR, ES7 requester side: the callbacks (ES7_SMSR_Requester.wsdl) */
extern const struct ws_op ws_ops_ES7SmSrRequesterService[];
/*! Operator side of ES2 (SM-DP -> MNO): the callbacks of the asynchronous ES2 functions and the
 *  Handle*Notification functions, all one-way; not in the GSMA set, from our wsdl/ES2_MNO_Callback.wsdl */
extern const struct ws_op ws_ops_ES2MnoCallbackService[];
/*! Operator side of ES4 (SM-SR -> MNO): callbacks and notifications, from our wsdl/ES4_MNO_Callback.wsdl */
extern const struct ws_op ws_ops_ES4MnoCallbackService[];
